import ssl


class UpstreamClient:
    def __init__(self, cafile):
        self.context = ssl.create_default_context(cafile=cafile)


async def connect_upstream(host):
    client = UpstreamClient("/etc/ssl/upstream.pem")  # expect
    return client, host
