/* A static-PIE program (ET_DYN, no interpreter): musl's rcrt1.o relocates
 * it at start-up, so this checks that the process server loads it at a
 * bias and that AT_PHDR/AT_BASE let musl find its own dynamic section.
 * The pointer tables below need R_X86_64_RELATIVE relocations to print. */
#include <stdio.h>

static const char *words[] = { "static", "pie", "relocated" };
static int square(int x) { return x * x; }
static int (*const ops[])(int) = { square };

int main(void)
{
    for (unsigned i = 0; i < sizeof words / sizeof *words; i++)
        printf("%s%c", words[i], i + 1 < sizeof words / sizeof *words ? ' ' : '\n');
    printf("square(7) = %d\n", ops[0](7));
    return 5;
}
