"""The demo's broker (demo/broker.py): kombu's filesystem transport writing each file whole,
so a worker never reads a message, or an exchange table, half written."""

import threading

from kombu import Connection, Consumer, Exchange, Producer, Queue

from demo.broker import Transport


def _connection(folder):
    for name in ("queue", "control"):
        (folder / name).mkdir(exist_ok=True)
    return Connection(
        "filesystem://",
        transport=Transport,
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.01,
        },
    )


def test_messages_published_while_a_consumer_polls_all_arrive_whole(tmp_path):
    queue = Queue("default", Exchange("default", type="direct"), routing_key="default")
    sent = 300
    received: list[int] = []

    def publish():
        with _connection(tmp_path) as connection:
            producer = Producer(connection.default_channel)
            for number in range(sent):
                producer.publish(
                    {"n": number},
                    exchange=queue.exchange,
                    routing_key="default",
                    declare=[queue],
                    serializer="json",
                )

    with _connection(tmp_path) as connection:
        queue(connection.default_channel).declare()
        consumer = Consumer(connection.default_channel, [queue], accept=["json"])
        consumer.register_callback(
            lambda body, message: (received.append(body["n"]), message.ack())
        )
        writer = threading.Thread(target=publish)
        with consumer:
            writer.start()
            while writer.is_alive() or len(received) < sent:
                try:
                    connection.drain_events(timeout=2)
                except TimeoutError:
                    break
        writer.join()
    assert sorted(received) == list(range(sent))


def test_a_file_being_written_is_not_taken_for_a_message(tmp_path):
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        (tmp_path / "queue" / ".1_x.default.msg.abc.part").write_bytes(b"")
        channel._put("default", {"whole": True})
        assert channel._get("default") == {"whole": True}
        assert (tmp_path / "queue" / ".1_x.default.msg.abc.part").exists()  # left alone
