/* The exit status travels from main's return value, through exit_group, to
 * the kernel's `lstar: exit status 42` line and xtask's exit code. */
int main(void)
{
	return 42;
}
