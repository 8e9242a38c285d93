# Reproduces: https://github.com/open-webui/open-webui/issues/11233 — async auth dependency calls a table helper that queries a sync SQLAlchemy Session from a contextmanager
from .db import get_db


class User:
    __tablename__ = "user"


class UsersTable:
    def get_user_by_id(self, id):
        with get_db() as db:
            user = db.query(User).filter_by(id=id).first()
            return user


Users = UsersTable()


async def get_current_user(request, token):
    data = request.app.state.decode_token(token)
    user = Users.get_user_by_id(data["id"])  # expect
    if user is None:
        raise PermissionError("invalid token")
    return user
