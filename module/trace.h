/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the patchlayer system (events/patchlayer/).
 * Field lists are documented in docs/tracepoints.md.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM patchlayer

#if !defined(_PATCHLAYER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PATCHLAYER_TRACE_H

#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <linux/uidgid.h>

#include "compat.h"

/*
 * Every control request (netlink command or sysfs write) with its caller
 * and result: an audit trail of who changed what.
 */
TRACE_EVENT(patchlayer_request,
	TP_PROTO(const char *op, const char *arg, int err),
	TP_ARGS(op, arg, err),

	TP_STRUCT__entry(
		__string(op, op)
		__string(arg, arg)
		__field(int, err)
		__field(pid_t, pid)
		__field(uid_t, uid)
		__array(char, comm, TASK_COMM_LEN)
	),

	TP_fast_assign(
		pl_assign_str(op, op);
		pl_assign_str(arg, arg);
		__entry->err = err;
		__entry->pid = task_tgid_nr(current);
		__entry->uid = from_kuid(&init_user_ns, current_uid());
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),

	TP_printk("op=%s arg=%s err=%d pid=%d uid=%u comm=%s",
		  __get_str(op), __get_str(arg), __entry->err, __entry->pid,
		  __entry->uid, __entry->comm)
);

/* Every load attempt's verdict: err 0 and "verified", or why not. */
TRACE_EVENT(patchlayer_verify,
	TP_PROTO(const char *path, const char *layer, int err, const char *reason),
	TP_ARGS(path, layer, err, reason),

	TP_STRUCT__entry(
		__string(path, path)
		__string(layer, layer)
		__field(int, err)
		__string(reason, reason)
	),

	TP_fast_assign(
		pl_assign_str(path, path);
		pl_assign_str(layer, layer);
		__entry->err = err;
		pl_assign_str(reason, reason);
	),

	TP_printk("path=%s layer=%s err=%d reason=%s", __get_str(path),
		  __get_str(layer), __entry->err, __get_str(reason))
);

/* Every state transition of a layer. */
TRACE_EVENT(patchlayer_state,
	TP_PROTO(const char *layer, const char *from, const char *to, const char *why),
	TP_ARGS(layer, from, to, why),

	TP_STRUCT__entry(
		__string(layer, layer)
		__string(from, from)
		__string(to, to)
		__string(why, why)
	),

	TP_fast_assign(
		pl_assign_str(layer, layer);
		pl_assign_str(from, from);
		pl_assign_str(to, to);
		pl_assign_str(why, why);
	),

	TP_printk("layer=%s from=%s to=%s why=%s", __get_str(layer),
		  __get_str(from), __get_str(to), __get_str(why))
);

/* Each open that a layer redirects to its replacement. */
TRACE_EVENT(patchlayer_redirect,
	TP_PROTO(const char *layer, const char *target),
	TP_ARGS(layer, target),

	TP_STRUCT__entry(
		__string(layer, layer)
		__string(target, target)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),

	TP_fast_assign(
		pl_assign_str(layer, layer);
		pl_assign_str(target, target);
		__entry->pid = task_tgid_nr(current);
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),

	TP_printk("layer=%s target=%s pid=%d comm=%s", __get_str(layer),
		  __get_str(target), __entry->pid, __entry->comm)
);

#endif /* _PATCHLAYER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
