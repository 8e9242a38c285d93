from app import heavy

SIZE = len(heavy.DATA)
