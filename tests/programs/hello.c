/* The smallest program: one line on stdout, exit status 0. Differential
 * test, and the default program of `cargo xtask run`. */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	return 0;
}
