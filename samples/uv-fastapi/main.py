import sys

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def hello() -> dict[str, str]:
    return {"message": f"Hello from FastAPI on Python {sys.version_info[0]}.{sys.version_info[1]}"}
