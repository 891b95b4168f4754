package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.bindings.linux.Linux;

/**
 * Symbolic names of errno values, built from the generated constants (not hard-coded numbers),
 * and the {@link PipeException}s that carry them.
 */
final class Errnos {
    private Errnos() {
    }

    static final int EPERM = Linux.EPERM();
    static final int ENOENT = Linux.ENOENT();
    static final int EINTR = Linux.EINTR();
    static final int EAGAIN = Linux.EAGAIN();
    static final int ENOMEM = Linux.ENOMEM();
    static final int EACCES = Linux.EACCES();
    static final int EBUSY = Linux.EBUSY();
    static final int EINVAL = Linux.EINVAL();
    static final int EPIPE = Linux.EPIPE();
    static final int ENOSYS = Linux.ENOSYS();
    static final int EMSGSIZE = Linux.EMSGSIZE();
    static final int EADDRINUSE = Linux.EADDRINUSE();
    static final int ECONNABORTED = Linux.ECONNABORTED();
    static final int ECONNRESET = Linux.ECONNRESET();
    static final int ENOTCONN = Linux.ENOTCONN();
    static final int ECONNREFUSED = Linux.ECONNREFUSED();
    static final int ECANCELED = Linux.ECANCELED();
    static final int EALREADY = Linux.EALREADY();
    static final int EINPROGRESS = Linux.EINPROGRESS();
    static final int EMFILE = Linux.EMFILE();
    static final int ENFILE = Linux.ENFILE();
    static final int EPROTOTYPE = Linux.EPROTOTYPE();

    private static final String[] NAMES = new String[256];

    static {
        name(Linux.EPERM(), "EPERM");
        name(Linux.ENOENT(), "ENOENT");
        name(Linux.ESRCH(), "ESRCH");
        name(Linux.EINTR(), "EINTR");
        name(Linux.EIO(), "EIO");
        name(Linux.ENXIO(), "ENXIO");
        name(Linux.EBADF(), "EBADF");
        name(Linux.EAGAIN(), "EAGAIN");
        name(Linux.ENOMEM(), "ENOMEM");
        name(Linux.EACCES(), "EACCES");
        name(Linux.EFAULT(), "EFAULT");
        name(Linux.EBUSY(), "EBUSY");
        name(Linux.EEXIST(), "EEXIST");
        name(Linux.ENOTDIR(), "ENOTDIR");
        name(Linux.EISDIR(), "EISDIR");
        name(Linux.EINVAL(), "EINVAL");
        name(Linux.ENFILE(), "ENFILE");
        name(Linux.EMFILE(), "EMFILE");
        name(Linux.ENOSPC(), "ENOSPC");
        name(Linux.EROFS(), "EROFS");
        name(Linux.EPIPE(), "EPIPE");
        name(Linux.ENOSYS(), "ENOSYS");
        name(Linux.ENAMETOOLONG(), "ENAMETOOLONG");
        name(Linux.ELOOP(), "ELOOP");
        name(Linux.ETIME(), "ETIME");
        name(Linux.EPROTO(), "EPROTO");
        name(Linux.ENOTSOCK(), "ENOTSOCK");
        name(Linux.EMSGSIZE(), "EMSGSIZE");
        name(Linux.EPROTOTYPE(), "EPROTOTYPE");
        name(Linux.EOPNOTSUPP(), "EOPNOTSUPP");
        name(Linux.EADDRINUSE(), "EADDRINUSE");
        name(Linux.EADDRNOTAVAIL(), "EADDRNOTAVAIL");
        name(Linux.ENETDOWN(), "ENETDOWN");
        name(Linux.ECONNABORTED(), "ECONNABORTED");
        name(Linux.ECONNRESET(), "ECONNRESET");
        name(Linux.ENOBUFS(), "ENOBUFS");
        name(Linux.EISCONN(), "EISCONN");
        name(Linux.ENOTCONN(), "ENOTCONN");
        name(Linux.ETIMEDOUT(), "ETIMEDOUT");
        name(Linux.ECONNREFUSED(), "ECONNREFUSED");
        name(Linux.EALREADY(), "EALREADY");
        name(Linux.EINPROGRESS(), "EINPROGRESS");
        name(Linux.ECANCELED(), "ECANCELED");
    }

    private static void name(int errno, String name) {
        if (errno > 0 && errno < NAMES.length && NAMES[errno] == null) {
            NAMES[errno] = name; // EWOULDBLOCK == EAGAIN, ENOTSUP == EOPNOTSUPP: first name wins
        }
    }

    /** {@code ECONNREFUSED}, or {@code errno 200} for a value without a name here. */
    static String name(int errno) {
        String n = errno > 0 && errno < NAMES.length ? NAMES[errno] : null;
        return n != null ? n : "errno " + errno;
    }

    /** {@code EPERM (1) Operation not permitted}. */
    static String describe(int errno) {
        return name(errno) + " (" + errno + ") " + LibC.strerror(errno);
    }

    /** A failure of {@code what} with {@code errno}: strerror, then {@code advice} if any. */
    static PipeException exception(String what, int errno, String advice) {
        String detail = LibC.strerror(errno);
        if (advice != null && !advice.isEmpty()) {
            detail = detail + "; " + advice;
        }
        return new PipeException(what, errno, name(errno), detail);
    }

    static PipeException exception(String what, int errno) {
        return exception(what, errno, null);
    }
}
