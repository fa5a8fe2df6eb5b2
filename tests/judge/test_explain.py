"""A failure that is the policy's doing names the module and the policy that allows it (issue 11):
``import numpy`` under the default policy was ``no_answer: program exited with code 1 before
reporting`` (the cause, OpenBLAS unable to start threads, only in stderr), and ``import sympy`` a
misleading "SymPy now depends on mpmath"."""

from __future__ import annotations

from ekt_curate.sandbox import Result, Status
from ekt_curate.sandbox.policy import load_policy
from ekt_curate.judge import DETAIL_CHARS, Judge, Sample, make_checker, read_gold, verdict_of
from ekt_curate.judge.explain import explain, imported_modules

DEFAULT, SCIENTIFIC = load_policy("default"), load_policy("scientific")
# The stderr tail the sandbox returned for `import numpy` under the default policy, as root.
OPENBLAS = ("OpenBLAS blas_thread_init: pthread_create failed for thread 1 of 2: Resource temporarily unavailable\n"
            "OpenBLAS blas_thread_init: RLIMIT_NPROC 1 current, 1 max\nOpenBLAS blas_thread_init: calling exit(3)\n")
SYMPY = ("ImportError: SymPy now depends on mpmath as an external library. See "
         "https://docs.sympy.org/latest/install.html#mpmath for more information.")
EXITED = "program exited with code 1 before reporting"


def test_numpy_under_the_default_policy_names_the_scientific_policy():
    why = explain("no_answer", EXITED, OPENBLAS, "import numpy as np\nanswer = int(np.sum([1, 2]))", DEFAULT)
    assert why == ("numpy is not available under policy 'default' (OpenBLAS cannot start its threads there); "
                   "use --policy scientific")
    why = explain("no_answer", EXITED, OPENBLAS, "from numpy import array\nanswer = 1", DEFAULT)
    assert why.startswith("numpy is not available") and why.endswith("use --policy scientific")


def test_sympy_needing_mpmath_is_explained():
    assert explain("runtime_error", SYMPY, "", "import sympy\nanswer = 1", DEFAULT) == \
        "sympy is not available under policy 'default'; use --policy scientific"
    assert explain("runtime_error", "ModuleNotFoundError: No module named 'sympy'", "",
                   "from sympy import solve\nanswer = 1", DEFAULT).endswith("use --policy scientific")


def test_the_programs_own_import_errors_are_not_blamed_on_the_policy():
    # a name math does not have: math is preloaded, the program is wrong
    assert explain("runtime_error", "ImportError: cannot import name 'tau2' from 'math'", "",
                   "from math import tau2", DEFAULT) is None
    # a module that is not installed at all: the sandbox's detail says enough
    assert explain("runtime_error", "ModuleNotFoundError: No module named 'nosuchmod'", "",
                   "import nosuchmod", DEFAULT) is None
    # an import the program never wrote (raised from its own code), and other failures
    assert explain("runtime_error", "ModuleNotFoundError: No module named 'numpy'", "", "raise ImportError", DEFAULT) is None
    assert explain("runtime_error", "ZeroDivisionError: division by zero", "", "import numpy\n1/0", DEFAULT) is None
    # under a policy that preloads it, sympy's import error is the program's
    assert explain("runtime_error", SYMPY, "", "import sympy", SCIENTIFIC) is None
    assert explain("runtime_error", SYMPY, "", "import sympy", None) is None


def test_imported_modules():
    assert imported_modules("import numpy.linalg as la, math\nfrom sympy.abc import x\nfrom . import y\n") == \
        ["numpy", "math", "sympy"]
    assert imported_modules("def (") == []


def test_the_verdict_keeps_the_sandbox_detail_and_adds_the_cause_whole():
    def judged(program, result):
        return verdict_of(result, read_gold("1"), program, make_checker("strict"), 1000, DEFAULT)

    verdict = judged("import numpy as np\nanswer = 1", Result(Status.NO_ANSWER, detail=EXITED, stderr_tail=OPENBLAS))
    assert verdict["detail"] == (f"{EXITED}: numpy is not available under policy 'default' (OpenBLAS cannot start "
                                 "its threads there); use --policy scientific")
    assert "OpenBLAS" in verdict["stderr"] and verdict["status"] == "no_answer"
    long = Result(Status.RUNTIME_ERROR, detail=SYMPY + " x" * 300)
    detail = judged("import sympy", long)["detail"]
    assert detail.startswith("ImportError: SymPy") and detail.endswith("use --policy scientific")
    assert len(detail) <= DETAIL_CHARS


def test_a_real_numpy_program_under_the_default_policy():
    from ekt_curate.sandbox import Sandbox

    program = "import numpy as np\nanswer = int(np.sum([1, 2]))"
    with Sandbox("default", workers=1) as box:
        verdict = next(Judge(box).verdicts([Sample(program, read_gold("3"))]))
    if verdict["status"] != "pass":  # numpy may start without threads on some installs: then it passes
        assert "numpy is not available under policy 'default'" in verdict["detail"], verdict
        assert verdict["detail"].endswith("use --policy scientific")
