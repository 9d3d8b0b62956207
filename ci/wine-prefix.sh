#!/bin/sh
# Create a Wine prefix for running the cross-built programs, once per prefix:
#   WINEPREFIX=$PWD/.cache/wine ci/wine-prefix.sh
# A crashing program must end at once: Wine's debugger (winedbg, started through the AeDebug
# key) would otherwise attach and wait, or print a long backtrace. Deleting AeDebug's Debugger
# value makes Wine end a faulting process with its exception code; ShowCrashDialog=0 keeps the
# crash dialog away.
set -eu
: "${WINEPREFIX:?set WINEPREFIX to the prefix to create}"
export WINEPREFIX
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install prompt
wine=${TLSLEAK_WINE64:-/usr/lib/wine/wine64}
stamp="$WINEPREFIX/.tlsleak-ready"
[ -f "$stamp" ] && exit 0
"$wine" wineboot -i >/dev/null 2>&1
"$wine" reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f >/dev/null 2>&1
"$wine" reg delete 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /f \
    >/dev/null 2>&1 || true
"${TLSLEAK_WINESERVER:-/usr/lib/wine/wineserver}" -w
touch "$stamp"
