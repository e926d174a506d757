#if canImport(Glibc)
import Glibc
#endif

/// Threads that run jobs in the order they were submitted. A thread is started only when the jobs queued or
/// running outnumber the threads (a thread that has just finished a job takes the next one, so jobs that move
/// between threads never make more threads than jobs), up to `maxThreads` and to what `jobSources` can fill
/// at once. A thread with no work for `idleSeconds` ends, so a quiet server holds none. Beyond the limit
/// jobs wait in the queue for the next free thread.
final class WorkerPool: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    let maxThreads: Int
    let stackSize: Int
    let idleSeconds: Double
    /// How many jobs can need a thread at once (for the server: its open connections, each of which has at
    /// most one job at a time); no thread is started past it. A job that handed its connection on is still
    /// finishing on its thread when the connection's next job arrives, and would count twice otherwise.
    private let jobSources: @Sendable () -> Int

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`: queued jobs from `head` on, threads started and alive, threads running a job.
    private var jobs: [Job] = []
    private var head = 0
    private var threads = 0
    private var running = 0
    private var retired = false

    /// Worker threads alive now (started and not yet retired).
    var threadCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return threads
    }

    init(maxThreads: Int, stackSize: Int, idleSeconds: Double = 2, jobSources: @escaping @Sendable () -> Int = { Int.max }) {
        self.maxThreads = max(1, maxThreads)
        self.jobSources = jobSources
        self.stackSize = stackSize
        self.idleSeconds = idleSeconds
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Whether jobs wait for a thread now (a hint: it may change at once).
    var hasQueuedJobs: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return head < jobs.count
    }

    /// Queues `job`; false (and the job dropped) only when no thread exists and none could be started.
    func submit(_ job: @escaping Job) -> Bool {
        guard startThreadIfAllBusy() else { return false }
        pthread_mutex_lock(mutex)
        jobs.append(job)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        return true
    }

    /// Lets idle threads end at once instead of after `idleSeconds`; queued jobs still run.
    func retire() {
        pthread_mutex_lock(mutex)
        retired = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Starts a thread when the jobs queued and running, with the new one, outnumber the threads (the others
    /// are idle or about to take the next job); false if none can run it.
    private func startThreadIfAllBusy() -> Bool {
        let limit = min(maxThreads, max(1, jobSources()))
        pthread_mutex_lock(mutex)
        let demand = jobs.count - head + 1 + running
        let needed = demand > threads && threads < limit
        if needed { threads += 1 }
        let others = threads - (needed ? 1 : 0)
        pthread_mutex_unlock(mutex)
        guard needed else { return true }
        if DetachedThread.start(stackSize: stackSize, { [self] in work() }) { return true }
        pthread_mutex_lock(mutex)
        threads -= 1
        pthread_mutex_unlock(mutex)
        return others > 0
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while let job = nextJob() {
            running += 1
            pthread_mutex_unlock(mutex)
            job()
            pthread_mutex_lock(mutex)
            running -= 1
        }
        threads -= 1
        pthread_mutex_unlock(mutex)
    }

    /// With `mutex` held: the oldest queued job, waiting for one up to `idleSeconds`; nil when the thread should end.
    private func nextJob() -> Job? {
        while head == jobs.count {
            if retired { return nil }
            var limit = timespec()
            clock_gettime(CLOCK_MONOTONIC, &limit)
            limit.tv_sec += Int(idleSeconds)
            let result = pthread_cond_timedwait(condition, mutex, &limit)
            if result == ETIMEDOUT && head == jobs.count { return nil }
        }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: jobs.count <= 1024)
            head = 0
        } else if head >= 1024 && head * 2 >= jobs.count {
            // A queue that never empties is compacted, so taken jobs do not pile up in front of it.
            jobs.removeSubrange(0..<head)
            head = 0
        }
        return job
    }
}
