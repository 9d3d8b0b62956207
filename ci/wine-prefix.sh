#!/bin/sh
# Create a Wine prefix for running the cross-built programs, once per prefix:
#   WINEPREFIX=$PWD/.cache/wine ci/wine-prefix.sh
# A crashing program must end at once and say little: by default Wine starts winedbg on an
# unhandled exception (AeDebug Auto=1), which prints a register dump and backtrace of some
# 4 KiB on stderr. Deleting AeDebug's Debugger value is not enough (Wine then runs winedbg
# anyway); an empty Debugger is: the process ends with one "Unhandled page fault ... starting
# debugger..." line and the low byte of the exception code as its status (5 for an access
# violation, 0xC0000005). ShowCrashDialog=0 keeps winedbg's dialog away should it ever run.
set -eu
: "${WINEPREFIX:?set WINEPREFIX to the prefix to create}"
export WINEPREFIX
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install prompt
wine=${TLSLEAK_WINE64:-/usr/lib/wine/wine64}
stamp="$WINEPREFIX/.tlsleak-prefix-2" # bump the number when the settings above change
[ -f "$stamp" ] && exit 0
"$wine" wineboot -i >/dev/null 2>&1
"$wine" reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f >/dev/null 2>&1
"$wine" reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger \
    /t REG_SZ /d '' /f >/dev/null 2>&1
"${TLSLEAK_WINESERVER:-/usr/lib/wine/wineserver}" -w
touch "$stamp"
