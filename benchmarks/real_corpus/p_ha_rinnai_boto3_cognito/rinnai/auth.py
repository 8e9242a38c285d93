# Reproduces: https://github.com/explosivo22/rinnaicontrolr-ha/issues/82 — an auth helper's constructor calls boto3.client (botocore lists its data folder); built in async_get_api
import boto3

POOL_REGION = "us-east-2"


class CognitoAuth:
    def __init__(self, pool_id, client_id, username):
        self.pool_id = pool_id
        self.client_id = client_id
        self.username = username
        self.client = boto3.client("cognito-idp", region_name=POOL_REGION)

    def authenticate(self, password):
        return self.client.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.username, "PASSWORD": password},
        )
