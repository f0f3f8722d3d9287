package io.dienflink.kafka;

import java.nio.ByteBuffer;

/** Record keys on every topic: the user id as 8 big-endian bytes, so Kafka partitions by user. */
public final class UserKeys {
    private UserKeys() {}

    public static byte[] key(long userId) {
        return ByteBuffer.allocate(8).putLong(userId).array();
    }
}
