import json
from pathlib import Path

from django.core.management.base import CommandError

from indicators.engine import AnswerError
from indicators.management.versioned import VersionedInstrumentCommand
from indicators.selectors import InstrumentVersionNotFound, instrument_version_get
from indicators.services import instrument_version_score


class Command(VersionedInstrumentCommand):
    help = 'Score an answers file {"answers": {...}, "context": {...}} and print the result JSON.'

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, dest="number", required=True)
        parser.add_argument("--answers", type=Path, required=True)

    def handle(self, *args, **options):
        path: Path = options["answers"]
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("answers"), dict):
            raise CommandError(f'{path}: expected {{"answers": {{...}}, "context": {{...}}}}')
        context = payload.get("context") or {}
        if not isinstance(context, dict):
            raise CommandError(f"{path}: context must be an object")
        unexpected = set(payload) - {"answers", "context"}
        if unexpected:
            raise CommandError(
                f"{path}: unexpected top-level keys: {', '.join(sorted(unexpected))}"
            )
        try:
            version = instrument_version_get(
                slug=options["slug"], number=options["number"], published_only=False
            )
        except InstrumentVersionNotFound as error:
            raise CommandError(str(error)) from None
        try:
            result = instrument_version_score(
                version=version, answers=payload["answers"], context=context
            )
        except AnswerError as error:
            for problem in error.problems:
                self.stderr.write(f"{path}: {problem}")
            raise CommandError(f"{len(error.problems)} invalid answer(s); nothing scored") from None
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
