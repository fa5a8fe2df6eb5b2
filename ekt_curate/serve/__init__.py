"""``ekt-curate serve``: the verifier over HTTP, for RL trainers on other machines.

    settings    ServeSettings: address, token, bounds, judging options (checked before start)
    models      the request bodies, as pydantic models (400/422 name the field)
    run_code    SandboxFusion's POST /run_code: a plain run (stdin in; stdout, stderr, exit code out)
    batches     POST /verify (samples in verify's contract) and OpenRLHF's POST /get_reward, judged
                by verify's own steps and the one Judge (ekt_curate.judge)
    admission   the bounded queue: requests admitted, waiting, refused with 429 and Retry-After
    guards      bearer token, body size and read deadline, before any handler runs
    metrics     GET /metrics in Prometheus text
    app         create_app: the FastAPI application over one SharedSandbox
    server      run_server: uvicorn, SIGTERM drain

FastAPI, uvicorn and prometheus-client are the ``serve`` extra, imported only here.
"""
