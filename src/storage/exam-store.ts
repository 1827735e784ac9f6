/** An exam a teacher started in a group: students there get only an "exam in progress" notice. */
export interface Exam {
  /** The group conversation it applies to. */
  readonly groupId: string;
  /** Unique per exam, so "once per student per exam" notices start over with the next one. */
  readonly id: string;
  readonly startedAt: number;
  /** Epoch ms it ends by itself. */
  readonly endsAt: number;
}

/** Running exams, one per group at most, kept durably (survive restarts; end by themselves). */
export interface ExamStore {
  /** Starts an exam, replacing one already running in that group. */
  start(exam: Exam): Promise<void>;
  /** Ends the group's exam now; resolves whether one was running. */
  end(groupId: string, now: number): Promise<boolean>;
  /** The group's exam if one is running at `now`. */
  active(groupId: string, now: number): Promise<Exam | undefined>;
  /** Forgets exams that ended before `now`. */
  deleteEnded(now: number): Promise<number>;
}
