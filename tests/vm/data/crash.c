// SPDX-License-Identifier: GPL-2.0
/*
 * A program that dies of a signal, for the crash watch (71-bpf-crash.sh).
 *   crash LIB|- SIGNAL [handle|wait]
 * dlopen()s LIB (executable mappings of it; "-": none), then raises SIGNAL
 * (SIGSEGV: a real NULL dereference). "handle": a handler that exits 0
 * catches it, so it is not fatal. "wait": prints "ready" and waits for
 * SIGUSR1 first.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	int sig;

	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "-") && !dlopen(argv[1], RTLD_NOW)) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	sig = atoi(argv[2]);
	if (argc > 3 && !strcmp(argv[3], "handle"))
		signal(sig, on_signal);
	if (argc > 3 && !strcmp(argv[3], "wait")) {
		signal(SIGUSR1, on_usr1);
		printf("ready\n");
		fflush(stdout);
		while (!go)
			pause();
	}
	if (sig == SIGSEGV)
		*(volatile int *)0 = 1;
	raise(sig);
	return 0;
}
