#!/usr/bin/env bash
# Create .venv-slurm next to .venv: the main environment plus snakemake-executor-plugin-slurm.
#
# The plugin must stay OUT of .venv: Snakemake imports every installed executor plugin at start,
# and the SLURM plugin runs `scontrol show config` on import, which stalls every local snakemake
# call ~9 s on a machine with the SLURM client but no running controller (CLUSTER-NOTES pitfall 7).
# So .venv-slurm is a thin venv whose site-packages has a .pth file pointing at .venv's
# site-packages (it sees snakemake, torch, ... without reinstalling them) and holds only the
# plugin and whatever the plugin needs that .venv lacks. A .venv-slurm/bin/snakemake wrapper runs
# `python -m snakemake` with the venv's python; Snakemake starts the job-side Snakemake with the
# same interpreter, so the jobs see the plugin too.
#
# Idempotent. Environment: MAIN_VENV (default <repo>/.venv), SLURM_VENV (default <repo>/.venv-slurm).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
main="${MAIN_VENV:-$repo/.venv}"
venv="${SLURM_VENV:-$repo/.venv-slurm}"
plugin='snakemake-executor-plugin-slurm==2.8.*'

say() { echo "slurm/venv: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ -x "$main/bin/python" ] || die "no main venv at $main (create it first: python -m venv .venv && .venv/bin/pip install -e '.[test]')"
main_site="$("$main/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$main/bin/python" -c 'import snakemake' 2>/dev/null || die "$main has no snakemake"

if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    # `python -m venv` run by a venv's python builds on that venv's base interpreter.
    "$main/bin/python" -m venv "$venv"
fi
venv_site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
[ "$venv_site" != "$main_site" ] || die "$venv resolves to the main venv's site-packages"
# Paths from .pth files come after the venv's own site-packages: what is installed here wins.
echo "$main_site" >"$venv_site/moredata-main-venv.pth"

cat >"$venv/bin/snakemake" <<EOF
#!/bin/sh
# Snakemake of $main, run with this venv's python so it sees the SLURM executor plugin.
exec "$venv/bin/python" -m snakemake "\$@"
EOF
chmod +x "$venv/bin/snakemake"

say "installing $plugin"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$plugin"

# --- checks --------------------------------------------------------------------------------------
"$venv/bin/python" -c 'import snakemake_executor_plugin_slurm' ||
    die "$venv cannot import snakemake_executor_plugin_slurm"
# (this may take ~9 s when the SLURM client is installed but no controller runs: pitfall 7)
version="$("$venv/bin/snakemake" --version)" || die "$venv/bin/snakemake --version failed"
main_version="$("$main/bin/python" -m snakemake --version)"
[ "$version" = "$main_version" ] ||
    die "$venv runs snakemake $version but $main has $main_version (the plugin pulled another one?)"
if "$main/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("snakemake_executor_plugin_slurm") is None)'; then
    die "$main has snakemake-executor-plugin-slurm installed: every local snakemake call stalls ~9 s (pitfall 7); uninstall it there"
fi
say "ok: $venv/bin/snakemake $version with $("$venv/bin/python" -m pip show snakemake-executor-plugin-slurm 2>/dev/null | sed -n 's/^Version: /snakemake-executor-plugin-slurm /p'); $main has no SLURM plugin"
