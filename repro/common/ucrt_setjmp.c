/*
 * _setjmp for programs linked against the Universal CRT (cmake/ucrt.cmake): the static
 * winpthread of Debian's mingw-w64 is built for msvcrt.dll and calls _setjmp, which libucrt.a
 * does not define; the UCRT's entry is __intrinsic_setjmp. A jump, not a call: setjmp must
 * return into its caller's frame.
 */
__asm__(".globl _setjmp\n"
        "_setjmp:\n"
        "\tjmp __intrinsic_setjmp\n");
