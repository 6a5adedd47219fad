/* The initial stack: argc, every argv string (argv[0] included) and every
 * environment entry, in order. Differential test with `a b c` and FOO=bar. */
#include <stdio.h>

int main(int argc, char **argv, char **envp)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	if (argv[argc] != NULL)
		printf("argv[argc] is not NULL\n");
	for (int i = 0; envp[i] != NULL; i++)
		printf("envp[%d]=%s\n", i, envp[i]);
	return 0;
}
