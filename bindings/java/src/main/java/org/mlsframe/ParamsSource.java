package org.mlsframe;

/** Where a group's SFrame parameters come from ({@code mlsframe_params_source}). */
public enum ParamsSource {
    /** Carried in the group context (extension 0xff00), the default. */
    GROUP_CONTEXT,
    /** Agreed by the applications (groups with members on other MLS stacks). */
    APP
}
