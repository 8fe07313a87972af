"""Writes Tests/TensorBoardEventsTests/Fixtures/events.out.tfevents.fixture with the
`tensorboard` package's own framing (RecordWriter: masked CRC-32C) and its protobuf
messages (event_pb2, summary_pb2), for TensorBoardEventsTests to compare bytes against.

    python3 -m venv /tmp/tb && /tmp/tb/bin/pip install tensorboard
    /tmp/tb/bin/python bench/make_tensorboard_fixture.py

The events (fixed wall times, so the bytes are reproducible) are listed in the test too:
a file_version event, scalars at steps 1, 2 and 300 (one of them 0, one negative, one
summary with two values), and a large step (a multi-byte varint).
"""
import io
import pathlib

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/TensorBoardEventsTests/Fixtures/events.out.tfevents.fixture"


def scalars(wall_time, step, values):
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in values])
    return event_pb2.Event(wall_time=wall_time, step=step, summary=summary)


def main():
    events = [
        event_pb2.Event(wall_time=1765000000.25, file_version="brain.Event:2"),
        scalars(1765000001.5, 1, [("loss/train/total", 2.25)]),
        scalars(1765000002.75, 2, [("accuracy/test/fusion", 97.8), ("attention/w_v", 0.0)]),
        scalars(1765000003.0, 300, [("batch/loss/total", -0.125)]),
        scalars(1765000004.125, 1234567890123, [("lr", 0.001)]),
    ]
    buffer = io.BytesIO()
    writer = RecordWriter(buffer)
    for e in events:
        writer.write(e.SerializeToString())
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT} ({len(buffer.getvalue())} bytes, {len(events)} events)")


if __name__ == "__main__":
    main()
