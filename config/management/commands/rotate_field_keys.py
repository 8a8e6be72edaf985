"""Re-encrypt every sealed value to the active key (docs/encryption.md, "Rotating a key")."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config import crypto
from config.key_rotation import (
    DEFAULT_BATCH_SIZE,
    sealed_model_get,
    sealed_models,
    table_rotate,
    table_rows_count,
)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (change history included) to "
        "FIELD_ENCRYPTION_ACTIVE_KEY, in batches. Resumable: a rerun skips values already "
        "under the active key. Run it after deploying a keyring whose active key is new; "
        "remove the old key only once a run (or --dry-run) reports nothing left under it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only count the stored values per key id; decrypt and write nothing",
        )
        parser.add_argument(
            "--model",
            action="append",
            default=[],
            metavar="APP_LABEL.MODEL",
            help="rotate only this model's table (repeatable; default: every sealed table)",
        )

    def handle(self, *args, batch_size, dry_run, model, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            chosen = [sealed_model_get(label) for label in model] or sealed_models()
        except LookupError as error:
            raise CommandError(str(error)) from None
        active = crypto.keyring().active_id
        self.stdout.write(
            f"{'Counting' if dry_run else 'Re-encrypting'} values; active key: {active}"
        )
        reports = []
        for sealed_model in chosen:
            table = sealed_model._meta.db_table
            # tqdm writes carriage returns: give it the stream itself, not Django's wrapper
            # (which ends every write with a newline).
            with tqdm(
                total=table_rows_count(sealed_model), desc=table, unit="row", file=self.stderr._out
            ) as bar:
                report = table_rotate(
                    sealed_model, batch_size=batch_size, dry_run=dry_run, on_batch=bar.update
                )
            for failure in report.failures:
                self.stderr.write(str(failure))
            reports.append(report)
        self._write_report(reports, dry_run=dry_run, active=active)
        failed = sum(len(report.failures) for report in reports)
        if failed:
            raise CommandError(
                f"{failed} value(s) did not decrypt and were left as they are (listed above by "
                "table, column and row); the others were re-encrypted. Keep the old keys in "
                "the keyring until these are resolved."
            )

    def _write_report(self, reports, *, dry_run, active):
        if dry_run:
            width = max(len(report.table) for report in reports)
            for report in reports:
                keys = ", ".join(
                    f"{key_id}: {count}" for key_id, count in sorted(report.values_by_key.items())
                )
                self.stdout.write(
                    f"{report.table:<{width}}  rows {report.rows_checked:>8}  "
                    f"not under {active}: {report.to_reencrypt:>8}  values by key: {keys or '-'}"
                )
            total = sum(report.to_reencrypt for report in reports)
            self.stdout.write(f"dry run: {total} value(s) would be re-encrypted; nothing changed")
            return
        header = ("table", "rows checked", "re-encrypted", "already current", "failed")
        rows = [
            (
                report.table,
                report.rows_checked,
                report.reencrypted,
                report.already_current,
                len(report.failures),
            )
            for report in reports
        ]
        rows.append(("total", *(sum(row[i] for row in rows) for i in range(1, 5))))
        width = max(len(str(row[0])) for row in [header, *rows])
        for row in [header, *rows]:
            self.stdout.write(
                f"{row[0]:<{width}}  " + "  ".join(f"{value:>15}" for value in row[1:])
            )
