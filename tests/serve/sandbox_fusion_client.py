"""Run inside a subprocess whose SANDBOX_FUSION_ENDPOINT names the server, as a verl or
sandbox-fusion user sets it: the real client reads it when it is imported. Prints one JSON line
per response (the client's own parsed models, dumped back)."""

import asyncio
import base64
import json
import os
import sys

from sandbox_fusion import RunCodeRequest, run_code, run_code_async, run_concurrent

CASES = [
    {"code": "print(input()[::-1])", "stdin": "hello", "language": "python"},
    {"code": "import sys\nprint('partial')\nsys.exit(3)", "language": "python"},
    {"code": "def f():\n    return 1 / 0\nf()", "language": "python"},
    {"code": "while True:\n    pass", "language": "python", "run_timeout": 1},
    {"code": "print(open('data/in.txt').read().upper())\nopen('out.txt', 'w').write('written')",
     "language": "python", "files": {"data/in.txt": base64.b64encode(b"from a file").decode()},
     "fetch_files": ["out.txt"]},
    {"code": "import socket\nsocket.create_connection(('127.0.0.1', int(input())), timeout=1)\nprint('connected')",
     "language": "python", "stdin": os.environ["SANDBOX_FUSION_ENDPOINT"].rsplit(":", 1)[1]},  # the server itself
    {"code": "int main() { return 0; }", "language": "cpp"},
]


def dump(response):
    return json.loads(response.json())


def main() -> None:
    mode = sys.argv[1]
    if mode == "sync":
        for case in CASES:
            print(json.dumps(dump(run_code(RunCodeRequest(**case), max_attempts=1))))
    elif mode == "async":
        async def all_at_once():
            return await asyncio.gather(*(run_code_async(RunCodeRequest(**case), max_attempts=1) for case in CASES))
        for response in asyncio.run(all_at_once()):
            print(json.dumps(dump(response)))
    elif mode == "concurrent":
        requests = [RunCodeRequest(code=f"print({i} * {i})", language="python") for i in range(int(sys.argv[2]))]
        responses = run_concurrent(run_code, args=[[request] for request in requests], concurrency=32)
        for response in responses:
            print(json.dumps(dump(response)))


if __name__ == "__main__":
    main()
