# The entry point of a wasi-threads thread (see wthreads.h): the host
# calls wasi_thread_start(tid, start_arg) on a new instance, whose
# __stack_pointer is still the main thread's initial one. Before any C
# runs, point it at the thread's own stack, the first field of the
# wt_thread that start_arg points to; then call wthreads_entry.

	.globaltype	__stack_pointer, i32
	.functype	wthreads_entry (i32, i32) -> ()

	.text
	.globl	wasi_thread_start
	.type	wasi_thread_start,@function
	.export_name	wasi_thread_start, wasi_thread_start
wasi_thread_start:
	.functype	wasi_thread_start (i32, i32) -> ()
	local.get	1
	i32.load	0
	global.set	__stack_pointer
	local.get	0
	local.get	1
	call	wthreads_entry
	end_function
