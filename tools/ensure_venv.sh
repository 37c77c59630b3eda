#!/usr/bin/env bash
# tools/ensure_venv.sh VENV PYTHON REQUIREMENTS PYTHON_VERSIONS
# Create VENV with PYTHON and install REQUIREMENTS plus the helpers package,
# unless VENV already has a working interpreter and was installed from the
# same files. PYTHON_VERSIONS lists the versions allowed ("3.10 3.11 ...").
set -euo pipefail
venv=$1 python=$2 requirements=$3 allowed=$4
stamp="$venv/.installed"
want=$(cat "$requirements" pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c "import helpers" 2>/dev/null; then
    exit 0
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: $python not found. Install Python ${allowed%% *}-${allowed##* }" \
         "or name one: make ... PYTHON=/path/to/python3." >&2
    exit 1
fi
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case " $allowed " in
    *" $version "*) ;;
    *) echo "error: $python is Python $version; $venv needs one of: $allowed" \
            "(TensorFlow's wheels). Name another: make ... PYTHON=/path/to/python3." >&2
       exit 1 ;;
esac
if [ -d "$venv" ] && ! "$venv/bin/python" -c "" 2>/dev/null; then
    echo "$venv has no working interpreter (was Python moved or removed?): recreating it."
    rm -rf "$venv"
fi
rm -f "$stamp"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$requirements" -e .
echo "$want" > "$stamp"
