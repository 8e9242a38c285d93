# Reproduces: https://github.com/open-webui/open-webui/issues/11233 — async auth dependency calls a table helper that queries a sync SQLAlchemy Session from a contextmanager
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://webui@db/webui", pool_pre_ping=True)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)


@contextmanager
def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
