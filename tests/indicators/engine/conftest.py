"""The engine tests need no Django; make the project importable when run with `-p no:django`
(pytest-django would otherwise put the project root on sys.path)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
