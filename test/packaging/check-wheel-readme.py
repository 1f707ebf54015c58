"""Checks that the Python wheel in dist/python shows Python in its README.

The README's examples are written in TypeScript; jsii-rosetta translates them
during post-compile, and jsii-pacmak puts the translations in the wheel's
README (its METADATA). A wheel packaged without them shows TypeScript inside
```python blocks. This fails on any ```python block that reads as TypeScript.
"""
import glob
import re
import sys
import zipfile

TYPESCRIPT = re.compile(r"^\s*(import \{|const |let |declare |new [A-Z]\w*\()", re.MULTILINE)

wheels = glob.glob("dist/python/*.whl")
if len(wheels) != 1:
    sys.exit(f"expected one wheel in dist/python, found {wheels or 'none'}")
with zipfile.ZipFile(wheels[0]) as wheel:
    metadata = next(name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    readme = wheel.read(metadata).decode("utf-8")

blocks = re.findall(r"^```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
typescript = [block for block in blocks if TYPESCRIPT.search(block)]
if not blocks:
    sys.exit(f"{wheels[0]}: its README has no ```python block")
if typescript:
    sys.exit(f"{wheels[0]}: {len(typescript)} of {len(blocks)} ```python blocks in its README hold TypeScript "
             f"(were the rosetta translations made? run post-compile before package:python); the first:\n{typescript[0]}")
print(f"{wheels[0]}: {len(blocks)} ```python blocks in its README, all Python")
