# Reproduces: https://github.com/AgnostiqHQ/covalent-awsbatch-plugin/issues/40 — an async executor method uploads the pickled task with a boto3 S3 client
import boto3


class AWSBatchExecutor:
    def __init__(self, bucket, profile=None, region="us-east-1"):
        self.bucket = bucket
        self.profile = profile
        self.region = region

    def boto_session_options(self):
        return {"profile_name": self.profile, "region_name": self.region}

    async def _upload_task(self, local_path, key):
        s3 = boto3.Session(**self.boto_session_options()).client("s3")  # expect
        s3.upload_file(local_path, self.bucket, key)  # expect
