import requests


async def fetch_user(user_id):
    response = requests.get(f"https://api.example.com/users/{user_id}", timeout=5)  # expect
    return response.json()
