# Reproduces: https://github.com/explosivo22/rinnaicontrolr-ha/issues/82 — an auth helper's constructor calls boto3.client (botocore lists its data folder); built in async_get_api
from .auth import CognitoAuth

POOL_ID = "us-east-2_example"
CLIENT_ID = "rinnai-client"


async def async_get_api(username, password):
    auth = CognitoAuth(POOL_ID, CLIENT_ID, username)  # expect
    tokens = auth.authenticate(password)  # expect
    return tokens["AuthenticationResult"]["AccessToken"]
