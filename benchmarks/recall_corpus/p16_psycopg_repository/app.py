import psycopg2


class UserRepository:
    def __init__(self, dsn):
        self.dsn = dsn

    def find(self, user_id):
        conn = psycopg2.connect(self.dsn)
        with conn.cursor() as cur:
            cur.execute("select * from users where id = %s", (user_id,))
            return cur.fetchone()


async def get_user(repo: UserRepository, user_id):
    return repo.find(user_id)  # expect
