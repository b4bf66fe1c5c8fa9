-- Reports (core.ReportStore) count the sessions issued in each period
-- from the event log. The issue events, one a session, are found by
-- their time: this index holds them alone, with their session, and is
-- appended to as time goes on. Each session's log is then read through
-- events_session.
CREATE INDEX events_issued ON events (at) INCLUDE (session_id) WHERE action = 'issue';
