package org.mlsframe;

import java.util.List;

/**
 * How {@link Session#createGroup(GroupOptions)} creates a group
 * ({@code mlsframe_group_options}): SFrame parameters, MLS ciphersuite (0: the identity's
 * default; 0x0001..=0x0003), where the parameters live, and external senders.
 */
public record GroupOptions(GroupParams params, int mlsCiphersuite, ParamsSource paramsSource,
        List<ExternalSender> externalSenders) {
    /** The defaults (those of {@link Session#createGroup()}). */
    public static final GroupOptions DEFAULTS = new GroupOptions(GroupParams.DEFAULTS, 0,
            ParamsSource.GROUP_CONTEXT, List.of());
}
