package io.panapipe.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.cmsghdr;
import io.panapipe.bindings.linux.epoll_event;
import io.panapipe.bindings.linux.io_cqring_offsets;
import io.panapipe.bindings.linux.io_sqring_offsets;
import io.panapipe.bindings.linux.io_uring_cqe;
import io.panapipe.bindings.linux.io_uring_params;
import io.panapipe.bindings.linux.io_uring_sqe;
import io.panapipe.bindings.linux.iovec;
import io.panapipe.bindings.linux.msghdr;
import io.panapipe.bindings.linux.pollfd;
import io.panapipe.bindings.linux.__kernel_timespec;
import io.panapipe.bindings.linux.sockaddr_un;
import io.panapipe.bindings.linux.ucred;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Checks the Linux (x86_64, glibc) bindings against the kernel and glibc ABI. Runs everywhere. */
class LinuxLayoutTest {

    @Test
    void cLongIsEightBytes() {
        assertEquals(ValueLayout.JAVA_LONG, Linux.C_LONG);
    }

    @Test
    void sockets() {
        assertEquals(110, sockaddr_un.sizeof());
        assertEquals(0, sockaddr_un.sun_family$offset());
        assertEquals(2, sockaddr_un.sun_path$offset());
        assertEquals(108, sockaddr_un.sun_path$layout().byteSize());
        assertEquals(12, ucred.sizeof());
        assertEquals(4, ucred.uid$offset());
        assertEquals(8, ucred.gid$offset());
        assertEquals(56, msghdr.sizeof());
        assertEquals(16, iovec.sizeof());
        assertEquals(16, cmsghdr.sizeof());
        assertEquals(8, pollfd.sizeof());
        // packed on x86_64
        assertEquals(12, epoll_event.sizeof());
        assertEquals(4, epoll_event.data$offset());
    }

    @Test
    void ioUring() {
        assertEquals(64, io_uring_sqe.sizeof());
        assertEquals(0, io_uring_sqe.opcode$offset());
        assertEquals(1, io_uring_sqe.flags$offset());
        assertEquals(4, io_uring_sqe.fd$offset());
        assertEquals(8, io_uring_sqe.off$offset());
        assertEquals(16, io_uring_sqe.addr$offset());
        assertEquals(24, io_uring_sqe.len$offset());
        assertEquals(28, io_uring_sqe.msg_flags$offset());
        assertEquals(28, io_uring_sqe.cancel_flags$offset());
        assertEquals(32, io_uring_sqe.user_data$offset());
        assertEquals(40, io_uring_sqe.buf_index$offset());
        assertEquals(42, io_uring_sqe.personality$offset());
        assertEquals(44, io_uring_sqe.file_index$offset());
        assertEquals(48, io_uring_sqe.addr3$offset());
        assertEquals(16, io_uring_cqe.sizeof());
        assertEquals(0, io_uring_cqe.user_data$offset());
        assertEquals(8, io_uring_cqe.res$offset());
        assertEquals(12, io_uring_cqe.flags$offset());
        assertEquals(120, io_uring_params.sizeof());
        assertEquals(20, io_uring_params.features$offset());
        assertEquals(40, io_uring_params.sq_off$offset());
        assertEquals(80, io_uring_params.cq_off$offset());
        assertEquals(40, io_sqring_offsets.sizeof());
        assertEquals(40, io_cqring_offsets.sizeof());
        assertEquals(16, __kernel_timespec.sizeof());
    }

    @Test
    void constants() {
        assertEquals(1, Linux.AF_UNIX());
        assertEquals(1, Linux.SOCK_STREAM());
        assertEquals(5, Linux.SOCK_SEQPACKET());
        assertEquals(04000, Linux.SOCK_NONBLOCK());
        assertEquals(02000000, Linux.SOCK_CLOEXEC());
        assertEquals(1, Linux.SOL_SOCKET());
        assertEquals(17, Linux.SO_PEERCRED());
        assertEquals(4, Linux.SO_ERROR());
        assertEquals(2, Linux.SCM_CREDENTIALS());
        assertEquals(0x20, Linux.MSG_TRUNC());
        assertEquals(0x40, Linux.MSG_DONTWAIT());
        assertEquals(0x4000, Linux.MSG_NOSIGNAL());
        assertEquals(2, Linux.SHUT_RDWR());
        assertEquals(0x2000, Linux.POLLRDHUP());
        assertEquals(-1L, Linux.MAP_FAILED().address());
        assertEquals(0140000, Linux.S_IFSOCK());
    }

    @Test
    void errno() {
        assertEquals(1, Linux.EPERM());
        assertEquals(2, Linux.ENOENT());
        assertEquals(4, Linux.EINTR());
        assertEquals(9, Linux.EBADF());
        assertEquals(11, Linux.EAGAIN());
        assertEquals(11, Linux.EWOULDBLOCK());
        assertEquals(22, Linux.EINVAL());
        assertEquals(32, Linux.EPIPE());
        assertEquals(38, Linux.ENOSYS());
        assertEquals(95, Linux.EOPNOTSUPP());
        assertEquals(95, Linux.ENOTSUP());
        assertEquals(98, Linux.EADDRINUSE());
        assertEquals(104, Linux.ECONNRESET());
        assertEquals(111, Linux.ECONNREFUSED());
        assertEquals(125, Linux.ECANCELED());
    }

    @Test
    void ioUringConstants() {
        assertEquals(425, Linux.SYS_io_uring_setup());
        assertEquals(426, Linux.SYS_io_uring_enter());
        assertEquals(427, Linux.SYS_io_uring_register());
        assertEquals(0, Linux.IORING_OP_NOP());
        assertEquals(13, Linux.IORING_OP_ACCEPT());
        assertEquals(14, Linux.IORING_OP_ASYNC_CANCEL());
        assertEquals(16, Linux.IORING_OP_CONNECT());
        assertEquals(26, Linux.IORING_OP_SEND());
        assertEquals(27, Linux.IORING_OP_RECV());
        assertEquals(0L, Linux.IORING_OFF_SQ_RING());
        assertEquals(0x8000000L, Linux.IORING_OFF_CQ_RING());
        assertEquals(0x10000000L, Linux.IORING_OFF_SQES());
        assertEquals(1, Linux.IORING_ENTER_GETEVENTS());
        assertEquals(1, Linux.IORING_FEAT_SINGLE_MMAP());
        assertEquals(1 << 1, Linux.IORING_FEAT_NODROP());
        assertEquals(1 << 5, Linux.IORING_FEAT_FAST_POLL());
        assertEquals(1, Linux.IORING_SQ_NEED_WAKEUP());
        assertEquals(1 << 1, Linux.IORING_CQE_F_MORE());
        assertEquals(1 << 2, Linux.IOSQE_IO_LINK());
    }
}
