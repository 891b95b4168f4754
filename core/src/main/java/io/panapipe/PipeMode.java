package io.panapipe;

/**
 * How a pipe frames its data.
 *
 * <ul>
 *   <li>{@link #BYTE}: a byte stream, as TCP. Writes may be merged or split by the reader.
 *       Windows {@code PIPE_TYPE_BYTE}; Unix {@code SOCK_STREAM}.</li>
 *   <li>{@link #MESSAGE}: each write is one message and the reader sees its boundaries. A message
 *       longer than the read buffer is delivered over several reads, and
 *       {@link Pipe#isMessageComplete()} is {@code false} until its last part.
 *       Windows {@code PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE}; Unix {@code SOCK_SEQPACKET}.</li>
 * </ul>
 * Both ends of a connection must use the same mode.
 *
 * @since 0.1
 */
public enum PipeMode {
    /** A byte stream: Windows {@code PIPE_TYPE_BYTE}, Unix {@code SOCK_STREAM}. */
    BYTE,
    /** Messages with boundaries: Windows {@code PIPE_TYPE_MESSAGE}, Unix {@code SOCK_SEQPACKET}. */
    MESSAGE
}
