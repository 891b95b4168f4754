#!/usr/bin/env bash
# Regenerates the committed jextract bindings of the bindings module:
#
#   src/main/java/io/panapipe/bindings/linux    (header class Linux)   from jextract/linux/
#   src/main/java/io/panapipe/bindings/windows  (header class Win32)   from jextract/windows/
#
# Usage: bindings/regenerate.sh [linux] [windows]      (no argument: both)
#
# Needs a jextract (on PATH, or named by $JEXTRACT) and these Debian/Ubuntu packages:
#   libclang1-13 libclang-common-13-dev   clang 13 and its resource headers (stddef.h, ...)
#   mingw-w64-x86-64-dev                  Windows SDK headers (Windows bindings only)
#   libc6-dev linux-libc-dev              glibc and kernel headers (Linux bindings only)
# Optional overrides: CLANG_RESOURCE_INCLUDE (clang's resource include directory),
# MINGW_INCLUDE (MinGW-w64 include directory), LIBCLANG (libclang shared library used for the
# Windows run, see below).
#
# The generated directories are deleted and rewritten; with unchanged inputs and tools the
# output is byte-for-byte identical, so `git status bindings` stays clean. See README.md for the
# post-processing applied after jextract and why.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src="$here/src/main/java/io/panapipe/bindings"
apt_hint="install them with: sudo apt-get install libclang1-13 libclang-common-13-dev mingw-w64-x86-64-dev"

die() { echo "regenerate.sh: error: $*" >&2; exit 1; }
note() { echo "regenerate.sh: $*" >&2; }

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux windows)
for t in "${targets[@]}"; do
    case "$t" in linux|windows) ;; *) die "unknown target '$t' (expected: linux, windows)";; esac
done

# --- jextract -----------------------------------------------------------------------------
jextract=${JEXTRACT:-}
if [ -z "$jextract" ]; then
    jextract=$(command -v jextract || true)
fi
[ -n "$jextract" ] || die "jextract not found. Put it on PATH or set JEXTRACT=/path/to/jextract
  (jextract is not in any package registry: build it from https://github.com/openjdk/jextract,
  see bindings/README.md). It needs libclang 13 at run time; $apt_hint"
[ -x "$jextract" ] || die "JEXTRACT=$jextract is not an executable file."
jextract_version=$("$jextract" --version 2>&1 | tr '\n' ' ') || die "'$jextract --version' failed: $jextract_version"
note "using $jextract: $jextract_version"

# --- clang resource headers (stddef.h, stdarg.h, ...) ---------------------------------------
clang_include=${CLANG_RESOURCE_INCLUDE:-}
if [ -z "$clang_include" ]; then
    # Prefer clang 13 (what the committed bindings were generated with), newest patch level.
    for d in $(ls -d /usr/lib/llvm-13/lib/clang/*/include 2>/dev/null | sort -V -r); do
        if [ -f "$d/stddef.h" ]; then clang_include=$d; break; fi
    done
fi
[ -n "$clang_include" ] && [ -f "$clang_include/stddef.h" ] \
    || die "clang resource headers not found (looked for /usr/lib/llvm-13/lib/clang/*/include/stddef.h;
  set CLANG_RESOURCE_INCLUDE to override). Packages needed: libclang1-13 libclang-common-13-dev;
  $apt_hint"

# --- per-target header checks -------------------------------------------------------------
mingw_include=${MINGW_INCLUDE:-/usr/x86_64-w64-mingw32/include}
for t in "${targets[@]}"; do
    if [ "$t" = windows ]; then
        for h in windows.h winsock2.h namedpipeapi.h aclapi.h sddl.h; do
            [ -f "$mingw_include/$h" ] || die "MinGW-w64 header $mingw_include/$h not found
  (set MINGW_INCLUDE to override). Package needed: mingw-w64-x86-64-dev; $apt_hint"
        done
    else
        for h in linux/io_uring.h sys/socket.h sys/epoll.h; do
            [ -f "/usr/include/$h" ] || [ -n "$(ls /usr/include/*-linux-gnu/$h 2>/dev/null)" ] \
                || die "/usr/include/$h not found. Packages needed: libc6-dev linux-libc-dev"
        done
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/panapipe-jextract.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- libclang for the Windows run -----------------------------------------------------------
# jextract picks the size of C 'long' (4 bytes on Windows) from the os.name system property, so
# the Windows run uses -Dos.name=Windows. With that setting jextract loads its libclang with
# System.loadLibrary("libclang"), i.e. liblibclang.so on Linux: a private directory with that
# name linked to the real libclang is put on java.library.path.
find_libclang() {
    if [ -n "${LIBCLANG:-}" ]; then echo "$LIBCLANG"; return; fi
    local jx root
    jx=$(readlink -f "$jextract")
    root=$(dirname "$(dirname "$jx")")
    for f in "$root/runtime/lib/libclang.so" "$root/lib/libclang.so" \
             /usr/lib/llvm-13/lib/libclang.so.1 /usr/lib/x86_64-linux-gnu/libclang-13.so.1 \
             /usr/lib/llvm-13/lib/libclang-13.so.1; do
        if [ -f "$f" ]; then echo "$f"; return; fi
    done
}

# --- generation ---------------------------------------------------------------------------
generate() {
    local os=$1 header=$2 pkg=$3
    local in="$here/jextract/$os" dir="$work/$os"
    mkdir -p "$dir/out"
    # jextract reads clang flags from ./compile_flags.txt: write it with the paths found above.
    sed -e "s|@CLANG_RESOURCE_INCLUDE@|$clang_include|g" -e "s|@MINGW_INCLUDE@|$mingw_include|g" \
        "$in/compile_flags.txt.in" > "$dir/compile_flags.txt"

    local -a env_vars=()
    if [ "$os" = windows ]; then
        local libclang
        libclang=$(find_libclang)
        [ -n "$libclang" ] || die "libclang not found for the Windows run (set LIBCLANG=/path/to/libclang.so).
  Package needed: libclang1-13; $apt_hint"
        mkdir -p "$dir/libclang"
        ln -s "$libclang" "$dir/libclang/liblibclang.so"
        # LIBCLANG_DISABLE_CRASH_RECOVERY: jextract turns libclang's crash recovery on when
        # os.name says Windows; on Linux its signal handlers fight the JVM's and crash it.
        env_vars=(LIBCLANG_DISABLE_CRASH_RECOVERY=1
                  "JEXTRACT_JAVA_OPTIONS=-Dos.name=Windows -Djava.library.path=$dir/libclang ${JEXTRACT_JAVA_OPTIONS:-}")
    fi

    note "generating $os bindings ($pkg) from jextract/$os/$header"
    if ! (cd "$dir" && env "${env_vars[@]}" "$jextract" \
            @"$in/options.txt" @"$in/includes.txt" --output "$dir/out" "$in/$header") \
            > "$dir/jextract.log" 2>&1; then
        cat "$dir/jextract.log" >&2
        die "jextract failed for $os (log above)"
    fi
    # clang's warnings about the SDK headers are expected; show only errors.
    if grep -q "error:" "$dir/jextract.log"; then
        cat "$dir/jextract.log" >&2
        die "jextract reported errors for $os (log above)"
    fi

    local gen="$dir/out/${pkg//.//}"
    [ -d "$gen" ] || die "jextract produced no $gen"
    postprocess "$os" "$gen"

    local dest="$src/$os"
    rm -rf "$dest"
    mkdir -p "$dest"
    cp "$gen"/*.java "$dest/"
    note "wrote $(ls "$dest" | wc -l) files to ${dest#$here/}"
}

# Replace one exact line of a generated file; fail loudly if jextract's output changed shape.
replace_line() {
    local file=$1 old=$2 new=$3
    grep -qxF -- "$old" "$file" || die "post-processing: expected line not found in $file:
  $old
  (did the jextract version change? update regenerate.sh and README.md)"
    OLD="$old" NEW="$new" perl -0pi -e 's/^\Q$ENV{OLD}\E$/$ENV{NEW}/m' "$file"
}

# Post-processing (README.md, "Post-processing").
# 1. jextract's C_LONG casts the linker's
# canonical layout for 'long' to the size of the *generating* platform's long. That cast throws
# ClassCastException when the class initializes on the other OS, and every struct class refers
# to the header class, so no layout class would load there. Pin C_LONG to the target's layout.
# 2. Replace the Java 23 SymbolLookup.findOrThrow (below).
postprocess() {
    local os=$1 gen=$2 file old new
    if [ "$os" = windows ]; then
        file="$gen/Win32\$shared.java"
        old='    public static final ValueLayout.OfInt C_LONG = (ValueLayout.OfInt) Linker.nativeLinker().canonicalLayouts().get("long");'
        new='    public static final ValueLayout.OfInt C_LONG = ValueLayout.JAVA_INT; // regenerate.sh: Windows x64 long is 4 bytes on every host'
        replace_line "$file" "$old" "$new"
        # C_LONG_DOUBLE is cast from canonicalLayouts().get("double"), which exists everywhere
        # as JAVA_DOUBLE (long double is double on Windows x64): nothing to do.
        grep -q 'C_LONG_DOUBLE = (ValueLayout.OfDouble) Linker.nativeLinker().canonicalLayouts().get("double");' "$file" \
            || ! grep -q 'C_LONG_DOUBLE' "$file" \
            || die "post-processing: unexpected C_LONG_DOUBLE in $file"
    else
        file="$gen/Linux\$shared.java"
        old='    public static final ValueLayout.OfLong C_LONG = (ValueLayout.OfLong) Linker.nativeLinker().canonicalLayouts().get("long");'
        new='    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG; // regenerate.sh: LP64 long is 8 bytes on every host'
        replace_line "$file" "$old" "$new"
    fi
    # SymbolLookup.findOrThrow is Java 23+; the project compiles with --release 22. Spell it the
    # way the JDK implements it (same exception, same message).
    local n
    n=$(grep -o 'SYMBOL_LOOKUP\.findOrThrow("[A-Za-z0-9_]*")' "$gen"/*.java | wc -l)
    [ "$n" -gt 0 ] || die "post-processing: no SYMBOL_LOOKUP.findOrThrow(...) calls found in $gen"
    perl -pi -e 's/SYMBOL_LOOKUP\.findOrThrow\("([A-Za-z0-9_]*)"\)/SYMBOL_LOOKUP.find("$1").orElseThrow(() -> new NoSuchElementException("Symbol not found: $1"))/g' "$gen"/*.java
    if grep -l 'findOrThrow' "$gen"/*.java >/dev/null 2>&1; then
        die "post-processing: a findOrThrow call of an unexpected shape remains in $gen"
    fi
    # Nothing else may depend on the generating host.
    if grep -l 'canonicalLayouts().get("long")' "$gen"/*.java >/dev/null 2>&1; then
        die "post-processing: a host-dependent C_LONG remains in $gen"
    fi
}

for t in "${targets[@]}"; do
    case "$t" in
        linux) generate linux linux.h io.panapipe.bindings.linux ;;
        windows) generate windows win32.h io.panapipe.bindings.windows ;;
    esac
done
note "done. Review with: git status --porcelain bindings; git diff --stat bindings"
