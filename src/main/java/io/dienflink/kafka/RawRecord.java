package io.dienflink.kafka;

/**
 * A Kafka record exactly as read, before decoding: what a dead letter must preserve.
 *
 * @param key the record key, or null
 * @param value the record value, or null (a tombstone)
 */
public record RawRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {}
