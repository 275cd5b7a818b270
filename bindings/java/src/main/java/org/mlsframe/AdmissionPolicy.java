package org.mlsframe;

/**
 * Decides whether a member may join ({@code mlsframe_admission_callback}): asked for every
 * member a commit of ours adds, every member an incoming proposal or commit adds, and every
 * existing member of a group we join, on the thread driving the session. It must not call
 * into mlsframe (such calls throw {@link IllegalStateException}). If it throws, the member
 * is refused (as if it returned false) and the session call that asked throws that
 * exception instead of its own result; the call's effects stand (an incoming commit that
 * adds the refused member still ends the group with a policy violation).
 */
@FunctionalInterface
public interface AdmissionPolicy {
    /** True to admit {@code candidate}. */
    boolean admit(Candidate candidate);
}
