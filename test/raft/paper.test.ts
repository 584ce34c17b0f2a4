// Tests of the Raft paper's rules, section by section ("In Search of an Understandable Consensus
// Algorithm (Extended Version)", Ongaro & Ousterhout, 2014; and where noted, Ongaro's thesis,
// "Consensus: Bridging Theory and Practice", 2014). Each test quotes the sentence it checks and
// says in our own words what that means for this implementation.
//
// Unless a test says otherwise, pre-vote and check-quorum are off: the protocol as the paper states it.

import { describe, expect, it } from 'vitest'
import type { Raft } from '../../core/raft/raft.ts'
import { message } from '../../core/raft/types.ts'
import type { Entry, Message, MessageType, NodeId } from '../../core/raft/types.ts'
import { entry, forceLeader, hup, logTerms, newTestRaft, presetNode, takeMessages, tickTimes } from './raft-helpers.ts'
import { Env } from './transcript/env.ts'
import type { NodeOptions } from './transcript/env.ts'

const PEERS3 = [1, 2, 3]

function types(msgs: Message[]): string[] {
  return msgs.map((m) => `${m.from}->${m.to} ${m.type}`)
}

function app(from: NodeId, to: NodeId, term: number, index: number, logTerm: number, entries = [] as ReturnType<typeof entry>[], commit = 0): Message {
  return message({ type: 'app', from, to, term, index, logTerm, entries, commit })
}

function vote(from: NodeId, to: NodeId, term: number, lastIndex: number, lastTerm: number, type: MessageType = 'vote'): Message {
  return message({ type, from, to, term, index: lastIndex, logTerm: lastTerm })
}

/** A leader of term `term` (pre-set log optional) that has forgotten the messages of its election. */
function leaderAt(term: number, peers = PEERS3, logTermsBefore: number[] = []): Raft {
  const r = newTestRaft(1, { peers, term: term - 1, logTerms: logTermsBefore })
  forceLeader(r)
  return r
}

describe('§5.1 Raft basics: terms', () => {
  // "Current terms are exchanged whenever servers communicate; if one server's current term is
  // smaller than the other's, then it updates its current term to the larger value. If a candidate
  // or leader discovers that its term is out of date, it immediately reverts to follower state."
  // Whatever its role, a node that sees a message of a higher term adopts that term and follows.
  for (const role of ['follower', 'candidate', 'leader'] as const) {
    it(`a ${role} that receives a message with a higher term adopts it and becomes follower`, () => {
      const r = newTestRaft(1, { peers: PEERS3, term: 1 })
      if (role === 'candidate') r.becomeCandidate()
      if (role === 'leader') forceLeader(r)
      const before = r.term
      r.step(app(2, 1, before + 3, 0, 0))
      expect([r.state, r.term, r.lead]).toEqual(['follower', before + 3, 2])
    })
  }

  // "If a server receives a request with a stale term number, it rejects the request."
  // An append from a deposed leader changes nothing; neither does a vote request of an old term.
  it('a request with a stale term is rejected: no entries appended, no vote granted', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 5 })
    r.step(app(2, 1, 4, 0, 0, [entry(1, 4, 'x')]))
    expect(r.raftLog.lastIndex()).toBe(0)
    r.step(vote(3, 1, 4, 10, 4))
    expect(r.vote).toBe(0)
    expect(takeMessages(r).filter((m) => m.type === 'vote-resp' && !m.reject)).toEqual([])
  })

  // With check-quorum (or pre-vote) the answer to a stale append carries our term, so the stale
  // leader learns it is out of date (the rule above, seen from its side).
  it('with check-quorum, a stale append is answered with the current term so the old leader steps down', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 5, checkQuorum: true })
    r.step(app(2, 1, 4, 0, 0))
    const [resp] = takeMessages(r)
    expect([resp?.type, resp?.term, resp?.to]).toEqual(['app-resp', 5, 2])
    const oldLeader = leaderAt(4)
    oldLeader.step({ ...resp!, from: 2, to: 1 })
    expect([oldLeader.state, oldLeader.term]).toEqual(['follower', 5])
  })
})

describe('§5.2 Leader election', () => {
  // "When servers start up, they begin as followers."
  it('a node starts as a follower', () => {
    expect(newTestRaft(1, { peers: PEERS3 }).state).toBe('follower')
  })

  // "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all
  // followers in order to maintain their authority."
  it('a leader sends an entry-less heartbeat to every follower each heartbeat interval', () => {
    const r = newTestRaft(1, { peers: PEERS3, heartbeatTick: 3 })
    forceLeader(r)
    tickTimes(r, 2)
    expect(takeMessages(r)).toEqual([])
    r.tick()
    const msgs = takeMessages(r)
    expect(types(msgs)).toEqual(['1->2 heartbeat', '1->3 heartbeat'])
    expect(msgs.every((m) => m.entries.length === 0 && m.term === r.term)).toBe(true)
  })

  // Figure 2, rules for followers: "If election timeout elapses without receiving AppendEntries
  // RPC from current leader or granting vote to candidate: convert to candidate."
  // And §5.2: "To begin an election, a follower increments its current term and transitions to
  // candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of
  // the other servers in the cluster."
  it('a follower that hears nothing for an election timeout becomes candidate of the next term and asks everyone for votes', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1, logTerms: [1] })
    tickTimes(r, 2 * r.electionTimeout)
    expect([r.state, r.term, r.vote]).toEqual(['candidate', 2, 1])
    const msgs = takeMessages(r)
    expect(types(msgs)).toEqual(['1->2 vote', '1->3 vote'])
    expect(msgs.every((m) => m.term === 2 && m.index === 1 && m.logTerm === 1)).toBe(true)
  })

  it('appends from the leader keep resetting the follower election timer', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1 })
    for (let round = 0; round < 5; round++) {
      tickTimes(r, r.randomizedElectionTimeout - 1)
      r.step(app(2, 1, 1, 0, 0))
    }
    expect([r.state, r.term]).toEqual(['follower', 1])
  })

  it('granting a vote resets the follower election timer', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1 })
    tickTimes(r, r.randomizedElectionTimeout - 1)
    r.step(vote(2, 1, 2, 0, 0))
    expect(r.vote).toBe(2)
    tickTimes(r, r.randomizedElectionTimeout - 1)
    expect(r.state).toBe('follower')
  })

  // "A candidate wins an election if it receives votes from a majority of the servers in the full
  // cluster for the same term."
  const tally: Array<[number, Record<number, boolean>, string]> = [
    [1, {}, 'leader'],
    [3, { 2: true }, 'leader'],
    [3, { 2: false }, 'candidate'],
    [3, { 2: false, 3: false }, 'follower'],
    [5, { 2: true }, 'candidate'],
    [5, { 2: true, 3: true }, 'leader'],
    [5, { 2: false, 3: false }, 'candidate'],
    [5, { 2: false, 3: false, 4: false }, 'follower'],
    [4, { 2: true }, 'candidate'],
    [4, { 2: true, 3: true }, 'leader'],
  ]
  for (const [size, votes, want] of tally) {
    it(`a candidate in a cluster of ${size} with votes ${JSON.stringify(votes)} ends up ${want}`, () => {
      const peers = Array.from({ length: size }, (_, i) => i + 1)
      const r = newTestRaft(1, { peers })
      hup(r)
      for (const [id, granted] of Object.entries(votes)) {
        r.step(message({ type: 'vote-resp', from: Number(id), to: 1, term: r.term, reject: !granted }))
      }
      expect(r.state).toBe(want)
    })
  }

  // "Each server will vote for at most one candidate in a given term, on a first-come-first-served basis."
  it('a follower grants its vote to the first candidate of a term and refuses the second', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1 })
    r.step(vote(2, 1, 2, 0, 0))
    r.step(vote(3, 1, 2, 0, 0))
    r.step(vote(2, 1, 2, 0, 0)) // a retransmission from the one we voted for is granted again
    const answers = takeMessages(r).map((m) => `${m.to}:${m.reject ? 'reject' : 'grant'}`)
    expect(answers).toEqual(['2:grant', '3:reject', '2:grant'])
  })

  // "While waiting for votes, a candidate may receive an AppendEntries RPC from another server
  // claiming to be leader. If the leader's term (included in its RPC) is at least as large as the
  // candidate's current term, then the candidate recognizes the leader as legitimate and returns to
  // follower state. If the term in the RPC is smaller than the candidate's current term, then the
  // candidate rejects the RPC and continues in candidate state."
  it('a candidate that receives an append from a leader of its own term returns to follower', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1 })
    hup(r)
    r.step(app(2, 1, r.term, 0, 0))
    expect([r.state, r.lead, r.term]).toEqual(['follower', 2, 2])
  })

  it('a candidate that receives an append of an older term stays candidate', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1 })
    hup(r)
    r.step(app(2, 1, r.term - 1, 0, 0))
    expect([r.state, r.term]).toEqual(['candidate', 2])
  })

  // "The third possible outcome is that a candidate neither wins nor loses the election ... When
  // this happens, each candidate will time out and start a new election by incrementing its term
  // and initiating another round of RequestVote RPCs."
  it('a candidate without a decision times out and starts a new election in the next term', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1 })
    hup(r)
    takeMessages(r)
    tickTimes(r, 2 * r.electionTimeout)
    expect([r.state, r.term]).toEqual(['candidate', 3])
    expect(types(takeMessages(r))).toEqual(['1->2 vote', '1->3 vote'])
  })

  // "Raft uses randomized election timeouts to ensure that split votes are rare ... election
  // timeouts are chosen randomly from a fixed interval (e.g., 150-300ms)." Here the interval is
  // [electionTick, 2 * electionTick), drawn anew each time the timer is reset.
  it('election timeouts are drawn from [T, 2T) and vary between resets and between nodes', () => {
    const seen = new Set<number>()
    for (let id = 1; id <= 5; id++) {
      const r = newTestRaft(id, { peers: [1, 2, 3, 4, 5] })
      for (let i = 0; i < 50; i++) {
        r.becomeFollower(r.term + 1, 0)
        expect(r.randomizedElectionTimeout).toBeGreaterThanOrEqual(r.electionTimeout)
        expect(r.randomizedElectionTimeout).toBeLessThan(2 * r.electionTimeout)
        seen.add(r.randomizedElectionTimeout)
      }
    }
    expect(seen.size).toBeGreaterThan(5)
  })

  // "Once a candidate wins an election, it becomes leader. It then sends heartbeat messages to all
  // of the other servers to establish its authority and prevent new elections." Here the first
  // message is an append carrying the new leader's empty entry (see §8 below).
  it('a candidate that wins tells every other server at once', () => {
    const r = newTestRaft(1, { peers: PEERS3 })
    hup(r)
    takeMessages(r)
    r.step(message({ type: 'vote-resp', from: 2, to: 1, term: r.term }))
    expect(r.state).toBe('leader')
    expect(types(takeMessages(r))).toEqual(['1->2 app', '1->3 app'])
  })
})

describe('§5.3 Log replication', () => {
  // "The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in
  // parallel to each of the other servers to replicate the entry."
  it('a proposal is appended to the leader log and sent to every follower', () => {
    const r = leaderAt(2)
    r.step(message({ type: 'prop', from: 1, entries: [entry(0, 0, 'x')] }))
    expect(logTerms(r)).toEqual([2, 2]) // the empty entry of the term, then x
    const msgs = takeMessages(r)
    expect(types(msgs)).toEqual(['1->2 app', '1->3 app'])
    expect(msgs.every((m) => m.entries.some((e) => new TextDecoder().decode(e.data) === 'x'))).toBe(true)
  })

  // "A log entry is committed once the leader that created the entry has replicated it on a
  // majority of the servers."
  const majority: Array<[number, number, boolean]> = [
    [1, 0, true],
    [3, 0, false],
    [3, 1, true],
    [5, 1, false],
    [5, 2, true],
    [4, 1, false],
    [4, 2, true],
  ]
  for (const [size, acks, committed] of majority) {
    it(`in a cluster of ${size}, ${acks} follower acknowledgement(s) ${committed ? 'commit' : 'do not commit'} the entry`, () => {
      const peers = Array.from({ length: size }, (_, i) => i + 1)
      const r = leaderAt(2, peers)
      r.step(message({ type: 'prop', from: 1, entries: [entry(0, 0, 'x')] }))
      for (let id = 2; id < 2 + acks; id++) r.step(message({ type: 'app-resp', from: id, to: 1, term: r.term, index: 2 }))
      expect(r.raftLog.committed).toBe(committed ? 2 : 0)
    })
  }

  // "The leader keeps track of the highest index it knows to be committed, and it includes that
  // index in future AppendEntries RPCs (including heartbeats) so that the other servers eventually
  // find out. Once a follower learns that a log entry is committed, it applies the entry to its
  // local state machine (in log order)."
  it('the leader sends its commit index with appends and heartbeats; a follower commits up to it (but not past what it holds)', () => {
    const r = leaderAt(2)
    r.step(message({ type: 'prop', from: 1, entries: [entry(0, 0, 'x')] }))
    r.step(message({ type: 'app-resp', from: 2, to: 1, term: 2, index: 2 }))
    takeMessages(r)
    r.step(message({ type: 'prop', from: 1, entries: [entry(0, 0, 'y')] }))
    expect(takeMessages(r).every((m) => m.commit === 2)).toBe(true)
    tickTimes(r, r.heartbeatTimeout)
    const hb = takeMessages(r).filter((m) => m.type === 'heartbeat')
    expect(hb.map((m) => `${m.to}:${m.commit}`)).toEqual(['2:2', '3:0']) // never beyond what the follower matches

    const f = newTestRaft(2, { peers: PEERS3, term: 2, logTerms: [2] })
    f.step(app(1, 2, 2, 1, 2, [entry(2, 2, 'x')], 5))
    expect(f.raftLog.committed).toBe(2)
    expect(f.raftLog.nextCommittedEnts().map((e) => e.index)).toEqual([1, 2])
  })

  // "When sending an AppendEntries RPC, the leader includes the index and term of the entry in its
  // log that immediately precedes the new entries. If the follower does not find an entry in its
  // log with the same index and term, then it refuses the new entries."
  const consistency: Array<[string, number, number, boolean]> = [
    ['matching previous entry', 3, 3, true],
    ['previous entry of another term', 3, 2, false],
    ['previous entry missing', 4, 3, false],
    ['empty previous (index 0)', 0, 0, true],
  ]
  for (const [what, index, term, accepted] of consistency) {
    it(`a follower ${accepted ? 'accepts' : 'refuses'} an append whose ${what}`, () => {
      const f = newTestRaft(2, { peers: PEERS3, term: 3, logTerms: [1, 2, 3] })
      f.step(app(1, 2, 3, index, term, [entry(index + 1, 3, 'n')]))
      const [resp] = takeMessages(f)
      expect(resp?.reject).toBe(!accepted)
      expect(f.raftLog.lastIndex()).toBe(accepted ? index + 1 : 3)
    })
  }

  // "In Raft, the leader handles inconsistencies by forcing the followers' logs to duplicate its
  // own. This means that conflicting entries in follower logs will be overwritten with entries from
  // the leader's log." Figure 7: a leader of term 8 and followers (a) to (f), missing entries,
  // holding extra uncommitted ones, or both; each ends up with exactly the leader's log.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
  const figure7: Array<[string, number[]]> = [
    ['a', [1, 1, 1, 4, 4, 5, 5, 6, 6]],
    ['b', [1, 1, 1, 4]],
    ['c', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]],
    ['d', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]],
    ['e', [1, 1, 1, 4, 4, 4, 4]],
    ['f', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]],
  ]
  for (const [name, followerLog] of figure7) {
    it(`Figure 7 (${name}): the leader makes follower ${followerLog.join('')} match its log`, () => {
      const env = new Env()
      env.logLevel = 'none'
      env.capture(() => env.addNodes(2, {}, { preVote: false, checkQuorum: false }))
      // Index 1 (term 1) is the bootstrap snapshot; the figure's entries 2.. follow it.
      const toEntries = (terms: number[]) => terms.slice(1).map((t, i) => entry(i + 2, t, `${i + 2}@${t}`))
      env.capture(() => presetNode(env, 1, toEntries(leaderLog), { term: 7 }))
      env.capture(() => presetNode(env, 2, toEntries(followerLog), { term: 7 }))
      const leader = env.get(1).raw.raft
      leader.becomeCandidate()
      leader.becomeLeader() // term 8, appends 11@8
      leader.bcastAppend()
      env.capture(() => env.stabilize(new Set()))
      const want = [...leaderLog, 8]
      expect([1, ...logTerms(env.get(2).raw.raft)]).toEqual(want)
      expect(env.get(2).raw.raft.raftLog.committed).toBe(want.length)
    })
  }

  // "If two entries in different logs have the same index and term, then they store the same
  // command." and "If two entries in different logs have the same index and term, then the logs
  // are identical in all preceding entries." (Log Matching.) Checked after every step of random
  // schedules of ticks, proposals, partitions, message loss, reordering, duplication and restarts.
  it('Log Matching holds throughout random schedules (with Election Safety and State Machine Safety)', () => {
    for (let seed = 1; seed <= 8; seed++) runRandomSchedule(seed, 250)
  })

  it('the Log Matching check itself fails on two logs that agree at index 3 but not at index 2', () => {
    const env = new Env()
    env.logLevel = 'none'
    env.capture(() => {
      env.addNodes(2, {}, {})
      presetNode(env, 1, [entry(2, 2, 'a'), entry(3, 2, 'c')], { term: 2 })
      presetNode(env, 2, [entry(2, 2, 'b'), entry(3, 2, 'c')], { term: 2 })
    })
    expect(() => checkLogMatching(env, 'constructed')).toThrow(/match at 3 but differ at 2/)
  })

  // §5.5: "Raft RPCs are idempotent, so this causes no harm. For example, if a follower receives an
  // AppendEntries request that includes log entries already present in its log, it ignores those
  // entries in the new request."
  it('a repeated append changes nothing and is acknowledged again', () => {
    const f = newTestRaft(2, { peers: PEERS3, term: 2, logTerms: [1] })
    const m = app(1, 2, 2, 1, 1, [entry(2, 2, 'x'), entry(3, 2, 'y')])
    f.step(m)
    f.step(m)
    expect(logTerms(f)).toEqual([1, 2, 2])
    expect(takeMessages(f).map((x) => `${x.index}:${x.reject}`)).toEqual(['3:false', '3:false'])
  })

  // "When this happens, the follower ... deletes the existing entry and all that follow it" (Figure
  // 2, AppendEntries receiver step 3): an entry that conflicts truncates the log from there.
  it('a follower truncates its log at the first conflicting entry', () => {
    const f = newTestRaft(2, { peers: PEERS3, term: 3, logTerms: [1, 2, 2, 2] })
    f.step(app(1, 2, 3, 2, 2, [entry(3, 3, 'n')]))
    expect(logTerms(f)).toEqual([1, 2, 3])
  })
})

describe('§5.4.1 Election restriction', () => {
  // "the voter denies its vote if its own log is more up-to-date than that of the candidate ...
  // If the logs have last entries with different terms, then the log with the later term is more
  // up-to-date. If the logs end with the same term, then whichever log is longer is more
  // up-to-date." The voter's log here ends with 3@2.
  const cases: Array<[number, number, boolean]> = [
    [3, 2, true], // same last entry
    [4, 2, true], // same term, longer
    [2, 2, false], // same term, shorter
    [1, 3, true], // later term, even if shorter
    [9, 1, false], // earlier term, even if longer
  ]
  for (const [lastIndex, lastTerm, granted] of cases) {
    it(`a voter with last entry 3@2 ${granted ? 'grants' : 'denies'} a candidate whose last entry is ${lastIndex}@${lastTerm}`, () => {
      const r = newTestRaft(1, { peers: PEERS3, term: 2, logTerms: [1, 2, 2] })
      r.step(vote(2, 1, 3, lastIndex, lastTerm))
      const [resp] = takeMessages(r)
      expect(resp?.reject).toBe(!granted)
      expect(r.vote).toBe(granted ? 2 : 0)
    })
  }
})

describe('§5.4.2 Committing entries from previous terms', () => {
  // "Raft never commits log entries from previous terms by counting replicas. Only log entries
  // from the leader's current term are committed by counting replicas; once an entry from the
  // current term has been committed in this way, then all prior entries are committed indirectly."
  it('a leader does not commit an old-term entry held by a majority until an entry of its own term is', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 3, logTerms: [1, 2] })
    forceLeader(r) // term 4, appends 3@4
    r.step(message({ type: 'app-resp', from: 2, to: 1, term: 4, index: 2 }))
    expect(r.raftLog.committed).toBe(0) // 2@2 is on a majority, but it is of term 2
    r.step(message({ type: 'app-resp', from: 2, to: 1, term: 4, index: 3 }))
    expect(r.raftLog.committed).toBe(3) // 3@4 commits, and 1 and 2 with it
  })

  it('Figure 8: the clean core never commits 2@2 by counting replicas, so S5 may overwrite it', () => {
    const outcome = figure8({})
    expect(outcome.s1CommittedWhileOnlyOldTermOnMajority).toBe(1)
    expect(outcome.appliedAtIndex2).toEqual(['b']) // only S5's entry is ever applied at index 2
  })

  it('Figure 8 with the planted bug commitOldTerm: 2@2 is committed by counting replicas, then overwritten (the check can fail)', () => {
    const outcome = figure8({ commitOldTerm: true })
    expect(outcome.s1CommittedWhileOnlyOldTermOnMajority).toBe(2)
    expect(outcome.appliedAtIndex2).toEqual(['a', 'b']) // two different entries applied at one index: State Machine Safety broken
  })

  // Figure 8 (e): had S1 replicated an entry of its own term to a majority before crashing, that
  // entry and 2@2 before it are committed, and S5 can no longer win an election.
  it('Figure 8 (e): once an entry of the current term is on a majority, the old-term entry is committed with it and S5 cannot win', () => {
    const env = figure8Setup({}, false)
    expect(env.get(1).raw.raft.raftLog.committed).toBe(3)
    crashS1AndCampaignS5(env)
    expect(env.get(5).raw.raft.state).not.toBe('leader')
    expect(env.get(1).stateMachine.map((it) => it.data)).toEqual(['a'])
  })
})

describe('§5.2/§5.4 planted bug voteTwice: Election Safety', () => {
  // §5.2: "Each server will vote for at most one candidate in a given term" - which is what makes
  // "at most one leader can be elected in a given term" (Election Safety, Figure 3) hold.
  it('the clean core refuses a second candidate in the same term; with voteTwice it grants both', () => {
    for (const bugs of [{}, { voteTwice: true }]) {
      const r = newTestRaft(1, { peers: PEERS3, term: 1, bugs })
      r.step(vote(2, 1, 2, 0, 0))
      r.step(vote(3, 1, 2, 0, 0))
      const grants = takeMessages(r).filter((m) => !m.reject).map((m) => m.to)
      expect(grants).toEqual(bugs === undefined || !('voteTwice' in bugs) ? [2] : [2, 3])
    }
  })

  it('with voteTwice on one node, two candidates both win the same term (the check can fail)', () => {
    const leadersOfTerm2 = (nodeOneBugs: NodeOptions['bugs']) => {
      const env = new Env()
      env.logLevel = 'none'
      env.capture(() => {
        env.addNodes(1, { voters: PEERS3 }, { preVote: false, checkQuorum: false, bugs: nodeOneBugs })
        env.addNodes(2, { voters: PEERS3 }, { preVote: false, checkQuorum: false })
        env.get(2).raw.campaign()
        env.get(3).raw.campaign()
        env.processReady(2)
        env.processReady(3)
        env.deliverMsgs(new Set([1]), new Set(), undefined) // 2's request reaches node 1 first, then 3's
        env.stabilize(new Set())
      })
      return env.sortedNodes().filter((n) => n.raw.raft.state === 'leader' && n.raw.raft.term === 2).map((n) => n.id)
    }
    expect(leadersOfTerm2({})).toEqual([2])
    expect(leadersOfTerm2({ voteTwice: true })).toEqual([2, 3])
  })
})

describe('§6 Cluster membership changes (joint consensus)', () => {
  // "Agreement (for elections and entry commitment) requires separate majorities from both the old
  // and new configurations."
  it('in a joint configuration an entry commits only with a majority of each half', () => {
    const r = newTestRaft(1, { peers: [1, 4, 5], votersOutgoing: [1, 2, 3] })
    forceLeader(r)
    r.step(message({ type: 'app-resp', from: 2, to: 1, term: r.term, index: 1 }))
    r.step(message({ type: 'app-resp', from: 3, to: 1, term: r.term, index: 1 }))
    expect(r.raftLog.committed).toBe(0) // old half: yes; new half: only the leader
    r.step(message({ type: 'app-resp', from: 4, to: 1, term: r.term, index: 1 }))
    expect(r.raftLog.committed).toBe(1)
  })

  it('in a joint configuration a candidate needs a majority of each half', () => {
    const r = newTestRaft(1, { peers: [1, 4, 5], votersOutgoing: [1, 2, 3] })
    hup(r)
    expect(types(takeMessages(r))).toEqual(['1->2 vote', '1->3 vote', '1->4 vote', '1->5 vote'])
    r.step(message({ type: 'vote-resp', from: 2, to: 1, term: r.term }))
    r.step(message({ type: 'vote-resp', from: 3, to: 1, term: r.term }))
    expect(r.state).toBe('candidate')
    r.step(message({ type: 'vote-resp', from: 5, to: 1, term: r.term }))
    expect(r.state).toBe('leader')
  })

  // "...the leader ... steps down (returns to follower state) once it has committed the C_new log
  // entry" when it is not part of C_new. Here the step-down happens when the leader applies a
  // configuration that no longer contains it.
  // (Cairn first hands leadership to a remaining voter, so the others surely learn of the change.)
  it('a leader that applies its own removal stops accepting proposals and hands over until a higher term ends it', () => {
    const r = leaderAt(2)
    r.applyConfChange({ transition: 'auto', changes: [{ type: 'remove', nodeId: 1 }], context: new Uint8Array() })
    expect(() => r.step(message({ type: 'prop', from: 1, entries: [entry(0, 0, 'x')] }))).toThrow()
    expect(r.leadTransferee).not.toBe(0)
    tickTimes(r, 3 * r.electionTimeout) // no answer yet: it keeps leading (and asking)
    expect(r.state).toBe('leader')
    r.step(message({ type: 'app', from: 2, to: 1, term: r.term + 1, logTerm: 0, index: 0 })) // the successor leads
    expect(r.state).toBe('follower')
  })

  // "...servers disregard RequestVote RPCs when they believe a current leader exists. Specifically,
  // if a server receives a RequestVote RPC within the minimum election timeout of hearing from a
  // current leader, it does not update its term or grant its vote." (Here together with
  // check-quorum, as in etcd-io/raft.)
  it('with check-quorum, a follower that heard from its leader within the election timeout ignores a vote request', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 2, checkQuorum: true })
    r.step(app(2, 1, 2, 0, 0))
    takeMessages(r)
    r.step(vote(3, 1, 3, 0, 0))
    expect([r.term, r.vote, takeMessages(r)]).toEqual([2, 0, []])
    tickTimes(r, r.electionTimeout) // the lease has run out
    r.step(vote(3, 1, 3, 0, 0))
    expect([r.term, r.vote]).toEqual([3, 3])
  })
})

describe('§8 Client interaction', () => {
  // "Raft handles this by having each leader commit a blank no-op entry into the log at the start
  // of its term."
  it('a new leader appends an empty entry of its term', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1, logTerms: [1, 1] })
    forceLeader(r)
    const last = r.raftLog.entries(r.raftLog.lastIndex(), 1000)[0]!
    expect([last.index, last.term, last.type, last.data.byteLength]).toEqual([3, 2, 'normal', 0])
  })

  // "a leader must check whether it has been deposed before processing a read-only request ... Raft
  // handles this by having the leader exchange heartbeat messages with a majority of the cluster
  // before responding to read-only requests."
  it('a read is answered only after a majority acknowledged a heartbeat sent after it; with staleReads at once (the check can fail)', () => {
    for (const bugs of [{}, { staleReads: true }]) {
      const r = leaderAt(2)
      r.step(message({ type: 'app-resp', from: 2, to: 1, term: 2, index: 1 })) // commit the empty entry
      takeMessages(r)
      r.step(message({ type: 'read-index', context: new TextEncoder().encode('q') }))
      if ('staleReads' in bugs) {
        const buggy = newTestRaft(1, { peers: PEERS3, term: 1, bugs })
        forceLeader(buggy)
        buggy.step(message({ type: 'app-resp', from: 2, to: 1, term: 2, index: 1 }))
        buggy.step(message({ type: 'read-index', context: new TextEncoder().encode('q') }))
        expect(buggy.readStates.map((s) => s.index)).toEqual([1]) // no quorum was consulted
        continue
      }
      expect(r.readStates).toEqual([])
      const heartbeats = takeMessages(r).filter((m) => m.type === 'heartbeat')
      expect(heartbeats.map((m) => m.to)).toEqual([2, 3])
      r.step(message({ type: 'heartbeat-resp', from: 3, to: 1, term: 2, context: heartbeats[1]!.context! }))
      expect(r.readStates.map((s) => s.index)).toEqual([1])
    }
  })

  // "...the leader may not know which entries are committed ... Raft handles this by having each
  // leader commit a blank no-op entry into the log at the start of its term." (applied to reads)
  it('a new leader defers a read until the empty entry of its term is committed', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 1, logTerms: [1] })
    forceLeader(r)
    r.step(message({ type: 'read-index', context: new TextEncoder().encode('q') }))
    expect(takeMessages(r).filter((m) => m.type === 'heartbeat')).toEqual([])
    r.step(message({ type: 'app-resp', from: 2, to: 1, term: 2, index: 2 }))
    const hb = takeMessages(r).filter((m) => m.type === 'heartbeat')
    expect(hb.length).toBe(2)
    r.step(message({ type: 'heartbeat-resp', from: 2, to: 1, term: 2, context: hb[0]!.context! }))
    expect(r.readStates.map((s) => s.index)).toEqual([2])
  })
})

describe('Thesis §9.6 Preventing disruptions when a server rejoins the cluster (pre-vote)', () => {
  // "...a candidate would first ask other servers whether its log was up-to-date enough to get
  // their vote. Only if the candidate believed it could get votes from a majority of the cluster
  // would it increment its term and start a normal election."
  it('a pre-candidate does not change its term or vote; it takes the next term only after a majority of pre-votes', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 4, vote: 2, preVote: true })
    hup(r)
    expect([r.state, r.term, r.vote]).toEqual(['pre-candidate', 4, 2])
    const reqs = takeMessages(r)
    expect(reqs.map((m) => `${m.type} term=${m.term}`)).toEqual(['prevote term=5', 'prevote term=5'])
    r.step(message({ type: 'prevote-resp', from: 2, to: 1, term: 5 }))
    expect([r.state, r.term, r.vote]).toEqual(['candidate', 5, 1])
  })

  it('a pre-candidate that loses the pre-vote returns to follower in its old term', () => {
    const r = newTestRaft(1, { peers: PEERS3, term: 4, preVote: true })
    hup(r)
    r.step(message({ type: 'prevote-resp', from: 2, to: 1, term: 4, reject: true }))
    r.step(message({ type: 'prevote-resp', from: 3, to: 1, term: 4, reject: true }))
    expect([r.state, r.term]).toEqual(['follower', 4])
  })

  it('a voter grants a pre-vote without changing its own term or vote', () => {
    const r = newTestRaft(2, { peers: PEERS3, term: 4, vote: 3 })
    r.step(vote(1, 2, 5, 0, 0, 'prevote'))
    const [resp] = takeMessages(r)
    expect([resp?.type, resp?.reject, resp?.term, r.term, r.vote]).toEqual(['prevote-resp', false, 5, 4, 3])
  })
})

describe('Thesis §3.10 Leadership transfer', () => {
  // "1. The prior leader stops accepting new client requests. 2. The prior leader fully updates
  // the target server's log to match its own ... 3. The prior leader sends a TimeoutNow request to
  // the target server. This request has the same effect as the target server's election timer
  // firing: the target server starts a new election."
  it('the leader refuses proposals, catches the target up, then sends timeout-now; the target campaigns at once', () => {
    const r = leaderAt(2)
    r.step(message({ type: 'app-resp', from: 2, to: 1, term: 2, index: 1 }))
    takeMessages(r)
    r.step(message({ type: 'transfer-leader', from: 3 }))
    expect(r.leadTransferee).toBe(3)
    expect(() => r.step(message({ type: 'prop', from: 1, entries: [entry(0, 0, 'x')] }))).toThrow()
    expect(types(takeMessages(r))).not.toContain('1->3 timeout-now') // node 3 is not caught up yet
    r.step(message({ type: 'app-resp', from: 3, to: 1, term: 2, index: 1 }))
    expect(types(takeMessages(r))).toContain('1->3 timeout-now')

    const target = newTestRaft(3, { peers: PEERS3, term: 2, logTerms: [2], preVote: true, checkQuorum: true })
    target.step(message({ type: 'timeout-now', from: 1, to: 3, term: 2 }))
    expect([target.state, target.term]).toEqual(['candidate', 3]) // no pre-vote round
  })
})

// ---- Figure 8 ------------------------------------------------------------------------------------

/**
 * Figure 8, (c) onwards. S1 holds 2@2 ("a"), written as leader of term 2 and replicated nowhere;
 * S5 holds 2@3 ("b"), written as leader of term 3 and replicated nowhere; S2..S4 hold only 1.
 * S4 and S5 are cut off. S1 is elected for term 4 by S2 and S3, appends 3@4, and replicates 2@2
 * to them (one entry per message). When `holdBackCurrentTerm`, every message that would give a
 * follower 3@4 is lost, so the only entry on a majority is the old-term 2@2.
 */
function figure8Setup(bugs: NodeOptions['bugs'], holdBackCurrentTerm: boolean): Env {
  const env = new Env()
  env.logLevel = 'none'
  const cutOff = (m: Message) => m.from === 4 || m.from === 5 || m.to === 4 || m.to === 5
  // An append carrying 3@4 to a follower that already holds 2@2 would be accepted: that one is lost.
  const givesCurrentTermEntry = (m: Message) =>
    m.type === 'app' && m.entries.some((e) => e.index === 3) && env.get(m.to).raw.raft.raftLog.lastIndex() >= 2
  env.dropIf = (m) => cutOff(m) || (holdBackCurrentTerm && givesCurrentTermEntry(m))
  env.capture(() => {
    env.addNodes(5, {}, { preVote: false, checkQuorum: false, maxSizePerMsg: 1, bugs })
    presetNode(env, 1, [entry(2, 2, 'a')], { term: 3 })
    presetNode(env, 2, [], { term: 3 })
    presetNode(env, 3, [], { term: 3, vote: 5 })
    presetNode(env, 4, [], { term: 3, vote: 5 })
    presetNode(env, 5, [entry(2, 3, 'b')], { term: 3, vote: 5 })
    env.get(1).raw.campaign()
    env.stabilize(new Set())
  })
  if (env.get(1).raw.raft.state !== 'leader' || env.get(1).raw.raft.term !== 4) throw new Error('setup: S1 should lead term 4')
  for (const id of [2, 3]) {
    const want = holdBackCurrentTerm ? 2 : 3
    if (env.get(id).raw.raft.raftLog.lastIndex() !== want) throw new Error(`setup: S${id} should hold ${want} entries`)
  }
  return env
}

/** (d) S1 crashes; S5 campaigns (S2..S4 can vote for it only if their last entry is older than 2@3). */
function crashS1AndCampaignS5(env: Env): void {
  env.isolated.add(1)
  env.dropIf = undefined
  for (let attempt = 0; attempt < 4 && env.get(5).raw.raft.state !== 'leader'; attempt++) {
    env.capture(() => {
      env.get(5).raw.campaign()
      env.stabilize(new Set())
    })
  }
}

function figure8(bugs: NodeOptions['bugs']): { s1CommittedWhileOnlyOldTermOnMajority: number; appliedAtIndex2: string[] } {
  const env = figure8Setup(bugs, true)
  const s1CommittedWhileOnlyOldTermOnMajority = env.get(1).raw.raft.raftLog.committed
  crashS1AndCampaignS5(env)
  if (env.get(5).raw.raft.state !== 'leader') throw new Error('S5 should have been elected')
  const appliedAtIndex2 = [...new Set(env.sortedNodes().flatMap((n) => n.stateMachine.filter((it) => it.index === 2).map((it) => it.data)))].sort()
  return { s1CommittedWhileOnlyOldTermOnMajority, appliedAtIndex2 }
}

// ---- random schedules ------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Drives 5 nodes through `steps` random actions and checks after each one: at most one leader per
 * term (Election Safety), Log Matching between every pair of logs, and that no two nodes apply
 * different entries at the same index (State Machine Safety).
 */
function runRandomSchedule(seed: number, steps: number, bugs: NodeOptions['bugs'] = {}): void {
  const rand = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const env = new Env()
  env.logLevel = 'none'
  env.capture(() => env.addNodes(5, {}, { preVote: rand() < 0.5, checkQuorum: rand() < 0.5, seed, bugs }))
  const ids = [1, 2, 3, 4, 5]
  const leaderOfTerm = new Map<number, NodeId>()
  const appliedAt = new Map<number, string>()
  let proposals = 0
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed}, step ${step}`
    env.capture(() => {
      const roll = rand()
      const id = pick(ids)
      try {
        if (roll < 0.45) env.tick(id, 1 + Math.floor(rand() * 3))
        else if (roll < 0.6) env.propose(id, `p${proposals++}`)
        else if (roll < 0.63) env.isolated.add(id)
        else if (roll < 0.68) env.heal()
        else if (roll < 0.7) env.restart(id)
        for (const n of env.sortedNodes()) while (env.processReady(n.id));
        // Deliver a random part of the queue in random order (the rest waits or, 10% of it, is
        // lost); 5% of what is delivered arrives twice (as a copy, as a real network delivers).
        const batch = env.queue
        env.queue = []
        for (let i = batch.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1))
          ;[batch[i], batch[j]] = [batch[j]!, batch[i]!]
        }
        for (const m of batch) {
          const r = rand()
          if (r < 0.6) {
            env.deliver(m)
            if (rand() < 0.05) env.queue.push(structuredClone(m))
          } else if (r < 0.9) env.queue.push(m)
        }
      } catch (e) {
        if ((e as { code?: string }).code !== 'ProposalDropped') throw e
      }
    })
    for (const n of env.sortedNodes()) {
      const r = n.raw.raft
      if (r.state === 'leader') {
        const other = leaderOfTerm.get(r.term)
        expect(other === undefined || other === n.id, `${where}: two leaders in term ${r.term}`).toBe(true)
        leaderOfTerm.set(r.term, n.id)
      }
      for (const it of n.stateMachine) {
        const seen = appliedAt.get(it.index)
        expect(seen === undefined || seen === it.data, `${where}: index ${it.index} applied as ${seen} and ${it.data}`).toBe(true)
        appliedAt.set(it.index, it.data)
      }
    }
    checkLogMatching(env, where)
  }
}

const entryKeys = new WeakMap<Entry, string>()
function entryKey(e: Entry): string {
  let k = entryKeys.get(e)
  if (k === undefined) {
    k = `${e.term}:${new TextDecoder().decode(e.data)}`
    entryKeys.set(e, k)
  }
  return k
}

function checkLogMatching(env: Env, where: string): void {
  const logs = env.sortedNodes().map((n) => ({ id: n.id, first: n.raw.raft.raftLog.firstIndex(), entries: n.raw.raft.raftLog.allEntries() }))
  for (const a of logs) {
    for (const b of logs) {
      if (a.id >= b.id) continue
      const lo = Math.max(a.first, b.first)
      const hi = Math.min(a.first + a.entries.length, b.first + b.entries.length) - 1
      const at = (x: typeof a, i: number) => x.entries[i - x.first]!
      // The highest index where both hold an entry of the same term: everything from there down must agree.
      let i = hi
      while (i >= lo && at(a, i).term !== at(b, i).term) i--
      for (let j = i; j >= lo; j--) {
        if (entryKey(at(a, j)) !== entryKey(at(b, j))) {
          expect.fail(`${where}: logs of ${a.id} and ${b.id} match at ${i} but differ at ${j}`)
        }
      }
    }
  }
}
