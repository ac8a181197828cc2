/*
 * fw_states.c - the flexible working request's state machine: one table
 * of every allowed transition.  The routes never test states themselves;
 * they ask fw_transition_next(), and a pair the table does not hold is an
 * illegal transition (409 conflict naming the current state).
 */
#include "fw.h"

#include <string.h>

static const char *const state_names[FW_STATE_COUNT] = {
    [FW_SUBMITTED] = "submitted",
    [FW_IN_CONSULTATION] = "in_consultation",
    [FW_DECIDED] = "decided",
    [FW_APPEALED] = "appealed",
    [FW_APPEAL_DECIDED] = "appeal_decided",
    [FW_WITHDRAWN] = "withdrawn",
    [FW_TREATED_AS_WITHDRAWN] = "treated_as_withdrawn",
};

static const struct {
    const char *name;
    fw_actor actor;
} events[FW_EVENT_COUNT] = {
    [FW_EV_SUBMIT] = {"submit", FW_ACTOR_REQUESTER},
    [FW_EV_MEETING] = {"meeting", FW_ACTOR_DECIDER},
    [FW_EV_DECIDE] = {"decide", FW_ACTOR_DECIDER},
    [FW_EV_APPEAL] = {"appeal", FW_ACTOR_REQUESTER},
    [FW_EV_APPEAL_DECIDE] = {"appeal_decide", FW_ACTOR_DECIDER},
    [FW_EV_WITHDRAW] = {"withdraw", FW_ACTOR_REQUESTER},
    [FW_EV_TREAT_WITHDRAWN] = {"treat_as_withdrawn", FW_ACTOR_DECIDER},
    [FW_EV_EXTENSION_PROPOSE] = {"extension_propose", FW_ACTOR_DECIDER},
    [FW_EV_EXTENSION_AGREE] = {"extension_agree", FW_ACTOR_REQUESTER},
};

/* Events that keep the state (meetings, extensions) are listed too, so
 * "may this happen now?" has one answer for every event. */
const fw_transition fw_transitions[] = {
    {FW_EV_SUBMIT, FW_STATE_NONE, FW_SUBMITTED},

    {FW_EV_MEETING, FW_SUBMITTED, FW_IN_CONSULTATION},
    {FW_EV_MEETING, FW_IN_CONSULTATION, FW_IN_CONSULTATION},
    {FW_EV_MEETING, FW_APPEALED, FW_APPEALED},

    {FW_EV_DECIDE, FW_SUBMITTED, FW_DECIDED},
    {FW_EV_DECIDE, FW_IN_CONSULTATION, FW_DECIDED},

    {FW_EV_APPEAL, FW_DECIDED, FW_APPEALED},
    {FW_EV_APPEAL_DECIDE, FW_APPEALED, FW_APPEAL_DECIDED},

    {FW_EV_WITHDRAW, FW_SUBMITTED, FW_WITHDRAWN},
    {FW_EV_WITHDRAW, FW_IN_CONSULTATION, FW_WITHDRAWN},
    {FW_EV_WITHDRAW, FW_APPEALED, FW_WITHDRAWN},

    {FW_EV_TREAT_WITHDRAWN, FW_SUBMITTED, FW_TREATED_AS_WITHDRAWN},
    {FW_EV_TREAT_WITHDRAWN, FW_IN_CONSULTATION, FW_TREATED_AS_WITHDRAWN},
    {FW_EV_TREAT_WITHDRAWN, FW_APPEALED, FW_TREATED_AS_WITHDRAWN},

    {FW_EV_EXTENSION_PROPOSE, FW_SUBMITTED, FW_SUBMITTED},
    {FW_EV_EXTENSION_PROPOSE, FW_IN_CONSULTATION, FW_IN_CONSULTATION},
    {FW_EV_EXTENSION_PROPOSE, FW_APPEALED, FW_APPEALED},
    {FW_EV_EXTENSION_AGREE, FW_SUBMITTED, FW_SUBMITTED},
    {FW_EV_EXTENSION_AGREE, FW_IN_CONSULTATION, FW_IN_CONSULTATION},
    {FW_EV_EXTENSION_AGREE, FW_APPEALED, FW_APPEALED},
};
const size_t fw_transition_count = sizeof(fw_transitions) / sizeof(fw_transitions[0]);

const char *fw_state_name(fw_state s)
{
    return s >= 0 && s < FW_STATE_COUNT ? state_names[s] : "none";
}

fw_state fw_state_parse(const char *name)
{
    for (int i = 0; name != NULL && i < FW_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0)
            return (fw_state)i;
    return FW_STATE_NONE;
}

bool fw_state_open(fw_state s)
{
    return s == FW_SUBMITTED || s == FW_IN_CONSULTATION || s == FW_APPEALED;
}

const char *fw_event_name(fw_event e)
{
    return e >= 0 && e < FW_EVENT_COUNT ? events[e].name : "none";
}

fw_actor fw_event_actor(fw_event e)
{
    return e >= 0 && e < FW_EVENT_COUNT ? events[e].actor : FW_ACTOR_DECIDER;
}

fw_state fw_transition_next(fw_state from, fw_event e)
{
    for (size_t i = 0; i < fw_transition_count; i++)
        if (fw_transitions[i].event == e && fw_transitions[i].from == from)
            return fw_transitions[i].to;
    return FW_STATE_NONE;
}
