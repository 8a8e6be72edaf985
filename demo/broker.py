"""The embedded demo's broker: kombu's filesystem transport, with every file written whole.

kombu's own transport (5.7) creates a message file and then writes it, and its reader moves
and reads any file with a message's name without taking the writer's lock: a worker polling
at that moment read an empty file and stopped on a JSON error (seen under `make run`). Here a
message, and a new exchange table, is written to a hidden temporary name first and put in
place in one step (rename, link), so a reader sees a whole file or none. Used through
CELERY_BROKER_TRANSPORT in config/settings/local.py; the URL stays `filesystem://`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


def _write_whole(path: str, data: bytes, *, replace: bool) -> bool:
    """Write `data` to `path` in one step. With `replace` False an existing file is left alone
    (returns False)."""
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            _write_whole(path, str_to_bytes(dumps(payload)), replace=True)
        except OSError as error:
            raise ChannelError(f"Cannot add file {path!r} to directory") from error

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        file = self._exchange_file(exchange)
        if not file.exists():
            self.control_folder.mkdir(exist_ok=True)
            table = [filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")]
            try:
                if _write_whole(str(file), str_to_bytes(dumps(table)), replace=False):
                    return
            except OSError as error:
                raise ChannelError(f"Cannot open {file}") from error
        # The table exists (maybe made a moment ago by another process): kombu's locked update.
        super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    Channel = Channel
