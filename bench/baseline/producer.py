"""The guide's producer.py, as the guide writes it: Flask + kafka-python, `send` then `flush`
per request. Two changes only, for a benchmark: the address, port and topic come from the
environment, and Flask's own server runs without the debug reloader (threaded=True, as
`app.run` defaults to).
"""
import json
import os

from flask import Flask, request, jsonify
from kafka import KafkaProducer

bootstrap_servers = os.environ.get("BOOTSTRAP", "localhost:9092")
topic = os.environ.get("TOPIC", "my_test_topic")

app = Flask(__name__)

producer = KafkaProducer(bootstrap_servers=bootstrap_servers,
                         value_serializer=lambda v: json.dumps(v).encode('utf-8'))


@app.route('/send_message', methods=['POST'])
def send_message():
    message = request.json.get('message')

    if not message:
        return jsonify({'error': 'Отсутствует сообщение'}), 400

    producer.send(topic, message)  # отправка сообщения
    producer.flush()  # ждем, что сообщение точно отправлено

    return jsonify({'status': 'Сообщение успешно отправлено'}), 200


if __name__ == '__main__':
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), threaded=True)
