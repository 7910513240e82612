#!/usr/bin/env bash
# The installed tree (cmake/install.cmake), checked by ctest: installs the build into a temporary
# prefix, then
#  - every public header preprocesses with only the prefix on the include path (it includes no
#    header left out of the install), and includes neither xtensor nor cblas.h, directly or
#    through another header; the interop header, which must include xtensor, shows the check sees it;
#  - all public headers together compile against the prefix alone;
#  - no installed CMake file names the source or build tree or a target the config does not
#    provide (the in-tree openblas_openmp helper, CLI11, Boost, xtensor outside the interop file).
# Usage: check_installed.sh BUILD_DIR SOURCE_DIR CXX
set -euo pipefail
build=$1 src=$2 cxx=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/p" >/dev/null
inc=$tmp/p/include/attnlab cfg=$tmp/p/lib/cmake/attnlab
fail=0
bad() { echo "FAIL: $*"; fail=1; }

interop=models/xtensor_interop.hpp
forbidden='/xtensor/|/xtensor-blas/|/xsimd/|cblas\.h|openblas'
headers=$(cd "$inc" && find . -name '*.hpp' | sed 's|^\./||' | sort)
[ -n "$headers" ] || bad "no headers installed"
for h in $headers; do
  deps=$("$cxx" -std=c++17 -M -I "$inc" -x c++ "$inc/$h" 2>&1) || { bad "$h does not preprocess against the prefix: $(grep -m1 "error" <<<"$deps")"; continue; }
  if [ "$h" = "$interop" ]; then
    grep -Eq "$forbidden" <<<"$deps" || bad "$h should include xtensor, and the check should see it"
  else
    ! grep -Eq "$forbidden" <<<"$deps" || bad "$h includes $(grep -Eo "[^ ]*($forbidden)[^ ]*" <<<"$deps" | head -1)"
  fi
done
for h in $headers; do [ "$h" = "$interop" ] || echo "#include \"$h\""; done >"$tmp/all.cpp"
"$cxx" -std=c++17 -fsyntax-only -I "$inc" "$tmp/all.cpp" || bad "the public headers do not compile together"

[ -f "$cfg/attnlabConfig.cmake" ] && [ -f "$cfg/attnlabConfigVersion.cmake" ] || bad "no attnlabConfig.cmake"
for p in "$(realpath "$src")" "$(realpath "$build")"; do
  ! grep -rlF "$p" "$tmp/p" --include='*.cmake' --include='*.hpp' || bad "installed files above name $p"
done
! grep -Eln 'openblas_openmp|CLI11|Boost' "$cfg"/*.cmake || bad "the config files above name an in-tree or build-only target"
! grep -ln 'xtensor' "$cfg"/attnlabTargets*.cmake || bad "attnlabTargets names xtensor"
for lib in autograd nn models train data; do
  grep -q "add_library(attnlab::$lib STATIC IMPORTED)" "$cfg/attnlabTargets.cmake" || bad "no attnlab::$lib"
done
[ -x "$tmp/p/bin/attnlab" ] || bad "no bin/attnlab"
echo "$(wc -w <<<"$headers") public headers checked in $tmp/p"
exit $fail
