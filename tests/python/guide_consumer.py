"""The guide's consumer.py (kafka-python, auto_offset_reset='earliest', no auto commit),
reading what kafkup sent, and checking each value against the bytes the guide's own
producer would have sent: json.dumps(v).encode('utf-8').

    guide_consumer.py BOOTSTRAP TOPIC lines FILE   # each line of FILE was one message
    guide_consumer.py BOOTSTRAP TOPIC bodies FILE  # each line a request body {"message": v}
    guide_consumer.py BOOTSTRAP TOPIC lines FILE SNIPPET  # connect with the KAFKA_PYTHON
                                                          # settings of kafkup's client.py

Exits 0 when the topic holds exactly the expected values, in order; 1 otherwise, saying where.
"""
import json
import runpy
import sys

from kafka import KafkaConsumer


def expected_values(mode, path):
    with open(path, encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if mode == "lines":
        return [json.dumps(line).encode("utf-8") for line in lines]
    if mode == "bodies":
        return [json.dumps(json.loads(body).get("message")).encode("utf-8") for body in lines]
    raise SystemExit(f"unknown mode {mode}")


def main():
    bootstrap, topic, mode, path = sys.argv[1:5]
    expected = expected_values(mode, path)
    settings = {"bootstrap_servers": bootstrap}
    if len(sys.argv) > 5:
        settings = runpy.run_path(sys.argv[5])["KAFKA_PYTHON"]
    consumer = KafkaConsumer(
        topic,
        **settings,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10000,  # the guide loops forever; a test must end
    )
    got = []
    for message in consumer:
        got.append(message.value)
        if len(got) == len(expected):
            break
    consumer.close()
    if got == expected:
        print(f"ok: {len(got)} values equal json.dumps byte for byte")
        return 0
    print(f"expected {len(expected)} values, got {len(got)}")
    for i, (want, have) in enumerate(zip(expected, got)):
        if want != have:
            print(f"first difference at {i}: expected {want!r}, got {have!r}")
            break
    return 1


if __name__ == "__main__":
    sys.exit(main())
