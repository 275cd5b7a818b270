package org.mlsframe;

/** A member's user id and device id. */
public record MemberIdentity(byte[] userId, byte[] deviceId) {}
