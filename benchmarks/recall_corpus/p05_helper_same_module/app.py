import requests


def notify_slack(text):
    requests.post("https://hooks.slack.com/services/T000/B000/XXX", json={"text": text})


async def on_order_created(order):
    await order.save()
    notify_slack(f"new order {order.id}")  # expect
