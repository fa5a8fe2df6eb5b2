from ekt_curate.steps.canonical import canonical_form, canonical_hash, tokens

BASE = '''def solution():
    """Janet's ducks."""
    eggs = 16  # laid per day
    left = eggs - 3 - 4
    return left * 2
'''


def test_layout_comments_docstrings_and_local_names_do_not_matter():
    renamed = "def main():\n    total=16\n    rest=total-3-4\n\n\n    return rest*2"
    fenced = f"Here is the program:\n```python\n{BASE}```\n"
    assert canonical_form(BASE) == canonical_form(renamed) == canonical_form(fenced)
    assert canonical_hash(canonical_form(BASE)) == canonical_hash(canonical_form(renamed))


def test_names_are_numbered_in_order_of_first_appearance():
    assert canonical_form(BASE).splitlines()[1] == "    v1 = 16"


def test_constants_matter():
    assert canonical_form(BASE) != canonical_form(BASE.replace("16", "17"))


def test_library_names_and_attributes_are_kept():
    form = canonical_form("import math\nx = math.ceil(round(2.5, ndigits=0))\nprint(x)")
    assert "math.ceil" in form and "round(" in form and "ndigits=0" in form and "print(v0)" in form


def test_text_that_does_not_parse_is_whitespace_normalized():
    assert canonical_form("answer = (1 +\n   2") == "answer = (1 + 2"


def test_tokens_keep_numbers_and_operators():
    assert tokens("v0 = 3.5 ** 2 // 4") == ["v0", "=", "3.5", "**", "2", "//", "4"]
