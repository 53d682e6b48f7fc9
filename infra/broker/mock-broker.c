/*
 * pitboss-mock-broker: a local Kafka-protocol broker for development and CI.
 *
 * Wraps librdkafka's mock cluster (Debian librdkafka-dev 2.0.2, rdkafka_mock.h) in a small
 * process: it pre-creates topics (kafkajs cannot create them on this mock, and a topic the
 * mock auto-creates on first produce gets 4 partitions), writes a JSON state file once ready,
 * and serves a line-based control channel on 127.0.0.1 so tests can create topics and take
 * brokers down and up. Measured behaviour of the mock: infra/broker/README.md.
 *
 * Usage:
 *   pitboss-mock-broker --brokers 3 --topic casino.deposits.v1:8 --topic risk.dlq.v1:4 \
 *     --state-file /tmp/x/broker.state.json --control-port 0
 *
 * State file (written atomically, removed on SIGTERM/SIGINT):
 *   {"bootstrap":"127.0.0.1:40123,127.0.0.1:40125","controlPort":40127,"pid":4242,"brokers":2}
 *
 * Control channel: one command per line, exactly one reply line per command, many commands
 * per connection:
 *   ping                      -> ok
 *   topic NAME PARTITIONS     -> ok | ok exists   (an existing topic keeps its partitions)
 *   down ID | up ID           -> ok               (broker ids are 1..brokers)
 *   anything else             -> error <reason>
 *
 * Binding: librdkafka 2.0.2's mock brokers bind their listeners to INADDR_LOOPBACK
 * (rd_kafka_mock_broker_new in rdkafka_mock.c) and advertise that address; there is no option
 * to choose the address, so we check the bootstrap list and refuse to run if any broker is
 * not on 127.0.0.1. The control socket is bound to 127.0.0.1 here.
 *
 * Build: cc -O2 -Wall -Wextra -o pitboss-mock-broker mock-broker.c $(pkg-config --cflags --libs rdkafka)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_CLIENTS 32
#define MAX_LINE_BYTES 512
#define MAX_TOPIC_NAME_BYTES 249 /* Kafka's own limit */
#define MAX_PARTITIONS 10000
#define MAX_BROKERS 64

struct topic_spec {
        char name[MAX_TOPIC_NAME_BYTES + 1];
        int partitions;
};

struct client {
        int fd; /* -1 when the slot is free */
        size_t used;
        char buffer[MAX_LINE_BYTES + 1];
};

static rd_kafka_mock_cluster_t *cluster;
static int broker_count = 1;
/* Self-pipe: a signal may land on any thread (the mock cluster runs its own), so the handler
 * only writes a byte that the main poll loop reads. */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int signal_number) {
        int saved_errno = errno;
        unsigned char byte  = (unsigned char)signal_number;
        ssize_t ignored     = write(signal_pipe[1], &byte, 1);
        (void)ignored;
        errno = saved_errno;
}

static int valid_topic_name(const char *name) {
        size_t length = strlen(name);
        if (length == 0 || length > MAX_TOPIC_NAME_BYTES || !strcmp(name, ".") ||
            !strcmp(name, ".."))
                return 0;
        for (size_t index = 0; index < length; index++) {
                char c = name[index];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

/* Parses a base-10 integer in [min, max]; returns 0 on success. */
static int parse_int(const char *text, long min, long max, long *out) {
        char *end;
        long value;
        if (!text || !*text)
                return -1;
        errno = 0;
        value = strtol(text, &end, 10);
        if (errno || *end || value < min || value > max)
                return -1;
        *out = value;
        return 0;
}

/* Parses NAME:PARTITIONS from the command line. */
static int parse_topic_argument(const char *argument, struct topic_spec *spec) {
        const char *colon = strrchr(argument, ':');
        long partitions;
        size_t name_length;
        if (!colon)
                return -1;
        name_length = (size_t)(colon - argument);
        if (name_length == 0 || name_length > MAX_TOPIC_NAME_BYTES)
                return -1;
        memcpy(spec->name, argument, name_length);
        spec->name[name_length] = '\0';
        if (!valid_topic_name(spec->name) ||
            parse_int(colon + 1, 1, MAX_PARTITIONS, &partitions))
                return -1;
        spec->partitions = (int)partitions;
        return 0;
}

/* Writes the state file via a temporary file and rename(), so readers never see half of it. */
static int write_state_file(const char *path, const char *bootstrap, int control_port) {
        char temporary[PATH_MAX];
        FILE *file;
        int failed;
        if (snprintf(temporary, sizeof(temporary), "%s.tmp-%ld", path, (long)getpid()) >=
            (int)sizeof(temporary))
                return -1;
        file = fopen(temporary, "w");
        if (!file)
                return -1;
        fprintf(file, "{\"bootstrap\":\"%s\",\"controlPort\":%d,\"pid\":%ld,\"brokers\":%d}\n",
                bootstrap, control_port, (long)getpid(), broker_count);
        failed = fflush(file) != 0 || fsync(fileno(file)) != 0;
        failed = fclose(file) != 0 || failed;
        if (failed || rename(temporary, path) != 0) {
                unlink(temporary);
                return -1;
        }
        return 0;
}

/* Every bootstrap entry must be 127.0.0.1:PORT; see the binding note at the top. */
static int bootstrap_is_loopback(const char *bootstrap) {
        const char *entry = bootstrap;
        static const char prefix[] = "127.0.0.1:";
        while (*entry) {
                if (strncmp(entry, prefix, sizeof(prefix) - 1) != 0)
                        return 0;
                entry = strchr(entry, ',');
                if (!entry)
                        break;
                entry++;
        }
        return 1;
}

static int open_control_socket(int port, int *bound_port) {
        struct sockaddr_in address;
        socklen_t address_length = sizeof(address);
        int on                   = 1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        memset(&address, 0, sizeof(address));
        address.sin_family      = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port        = htons((unsigned short)port);
        if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(fd, 16) != 0 ||
            getsockname(fd, (struct sockaddr *)&address, &address_length) != 0) {
                close(fd);
                return -1;
        }
        *bound_port = ntohs(address.sin_port);
        return fd;
}

/*
 * librdkafka 2.0.2's mock thread loses the wake-up of an op enqueued right after the previous
 * op's reply: it serves its op queue, then drains the wake-up pipe, and so swallows the byte
 * written for the next op, which then waits for the thread's 1 s poll timeout (measured: 20
 * topics created back to back took 5-9 s). Leaving a short gap after each op lets the thread
 * finish draining first; 20 topics then take a few tens of milliseconds. Call this before
 * every rd_kafka_mock_* call that goes through the op queue.
 */
#define MOCK_OP_GAP_NS 2000000L

static struct timespec last_mock_op;

static void wait_for_mock_thread(void) {
        struct timespec now, pause;
        long elapsed_ns;
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed_ns = (now.tv_sec - last_mock_op.tv_sec) * 1000000000L +
                     (now.tv_nsec - last_mock_op.tv_nsec);
        if (elapsed_ns >= 0 && elapsed_ns < MOCK_OP_GAP_NS) {
                pause.tv_sec  = 0;
                pause.tv_nsec = MOCK_OP_GAP_NS - elapsed_ns;
                while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
                        ;
        }
}

static void mock_op_done(void) {
        clock_gettime(CLOCK_MONOTONIC, &last_mock_op);
}

static rd_kafka_resp_err_t create_topic(const char *name, int partitions) {
        rd_kafka_resp_err_t error;
        wait_for_mock_thread();
        error = rd_kafka_mock_topic_create(cluster, name, partitions, 1);
        mock_op_done();
        return error;
}

static rd_kafka_resp_err_t set_broker_state(int32_t broker_id, int up) {
        rd_kafka_resp_err_t error;
        wait_for_mock_thread();
        error = up ? rd_kafka_mock_broker_set_up(cluster, broker_id)
                   : rd_kafka_mock_broker_set_down(cluster, broker_id);
        mock_op_done();
        return error;
}

/* Runs one control command; writes exactly one reply line (without newline) into reply. */
static void run_command(char *line, char *reply, size_t reply_size) {
        char *save = NULL;
        char *command = strtok_r(line, " \t", &save);
        char *first    = command ? strtok_r(NULL, " \t", &save) : NULL;
        char *second   = first ? strtok_r(NULL, " \t", &save) : NULL;
        char *extra    = second ? strtok_r(NULL, " \t", &save) : NULL;
        long value;
        rd_kafka_resp_err_t error;

        if (!command) {
                snprintf(reply, reply_size, "error empty command");
        } else if (!strcmp(command, "ping")) {
                snprintf(reply, reply_size, first ? "error usage: ping" : "ok");
        } else if (!strcmp(command, "topic")) {
                if (!first || !second || extra) {
                        snprintf(reply, reply_size, "error usage: topic NAME PARTITIONS");
                } else if (!valid_topic_name(first)) {
                        snprintf(reply, reply_size,
                                 "error invalid topic name (use 1-249 of [A-Za-z0-9._-])");
                } else if (parse_int(second, 1, MAX_PARTITIONS, &value)) {
                        snprintf(reply, reply_size, "error partitions must be an integer 1..%d",
                                 MAX_PARTITIONS);
                } else {
                        error = create_topic(first, (int)value);
                        if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
                                snprintf(reply, reply_size, "ok");
                        else if (error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                                snprintf(reply, reply_size, "ok exists");
                        else
                                snprintf(reply, reply_size, "error %s", rd_kafka_err2str(error));
                }
        } else if (!strcmp(command, "down") || !strcmp(command, "up")) {
                if (!first || second) {
                        snprintf(reply, reply_size, "error usage: %s BROKER_ID", command);
                } else if (parse_int(first, 1, broker_count, &value)) {
                        snprintf(reply, reply_size,
                                 "error no broker '%s'; broker ids are 1..%d", first,
                                 broker_count);
                } else {
                        error = set_broker_state((int32_t)value, !strcmp(command, "up"));
                        if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
                                snprintf(reply, reply_size, "ok");
                        else
                                snprintf(reply, reply_size, "error %s", rd_kafka_err2str(error));
                }
        } else {
                snprintf(reply, reply_size,
                         "error unknown command '%.64s' (known: ping, topic, down, up)", command);
        }
}

static void close_client(struct client *client) {
        close(client->fd);
        client->fd   = -1;
        client->used = 0;
}

/* Sends the whole reply; the control channel is tiny, so a blocking send is fine. */
static int send_all(int fd, const char *data, size_t length) {
        while (length > 0) {
                ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
                if (sent < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                data += sent;
                length -= (size_t)sent;
        }
        return 0;
}

/* Reads what is available and answers every complete line; closes the client on EOF/error. */
static void serve_client(struct client *client) {
        char reply[MAX_LINE_BYTES + 64];
        ssize_t received =
            recv(client->fd, client->buffer + client->used, MAX_LINE_BYTES - client->used, 0);
        char *start, *newline;
        if (received < 0 && errno == EINTR)
                return;
        if (received <= 0) {
                close_client(client);
                return;
        }
        client->used += (size_t)received;
        client->buffer[client->used] = '\0';
        start                        = client->buffer;
        while ((newline = memchr(start, '\n', client->used - (size_t)(start - client->buffer)))) {
                *newline = '\0';
                if (newline > start && newline[-1] == '\r')
                        newline[-1] = '\0';
                run_command(start, reply, sizeof(reply) - 1);
                strcat(reply, "\n");
                if (send_all(client->fd, reply, strlen(reply)) != 0) {
                        close_client(client);
                        return;
                }
                start = newline + 1;
        }
        client->used -= (size_t)(start - client->buffer);
        memmove(client->buffer, start, client->used);
        if (client->used == MAX_LINE_BYTES) {
                static const char too_long[] = "error line too long\n";
                send_all(client->fd, too_long, sizeof(too_long) - 1);
                close_client(client);
        }
}

static void usage(const char *program) {
        fprintf(stderr,
                "usage: %s [--brokers N] [--topic NAME:PARTITIONS]... [--state-file PATH] "
                "[--control-port N]\n",
                program);
}

int main(int argc, char **argv) {
        struct topic_spec *topics = NULL;
        int topic_count           = 0;
        const char *state_file    = NULL;
        long control_port_wanted  = 0;
        long value;
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *handle;
        const char *bootstrap;
        int control_fd, control_port = 0;
        struct client clients[MAX_CLIENTS];
        struct sigaction action;
        int exit_code = 0;

        for (int index = 1; index < argc; index++) {
                const char *option = argv[index];
                const char *argument = index + 1 < argc ? argv[index + 1] : NULL;
                if (!strcmp(option, "--help")) {
                        usage(argv[0]);
                        return 0;
                }
                if (!argument) {
                        fprintf(stderr, "missing value for %s\n", option);
                        usage(argv[0]);
                        return 2;
                }
                index++;
                if (!strcmp(option, "--brokers")) {
                        if (parse_int(argument, 1, MAX_BROKERS, &value)) {
                                fprintf(stderr, "--brokers must be an integer 1..%d\n",
                                        MAX_BROKERS);
                                return 2;
                        }
                        broker_count = (int)value;
                } else if (!strcmp(option, "--topic")) {
                        struct topic_spec *grown =
                            realloc(topics, sizeof(*topics) * (size_t)(topic_count + 1));
                        if (!grown)
                                return 1;
                        topics = grown;
                        if (parse_topic_argument(argument, &topics[topic_count])) {
                                fprintf(stderr,
                                        "--topic must be NAME:PARTITIONS with NAME of "
                                        "[A-Za-z0-9._-] and PARTITIONS 1..%d, got '%s'\n",
                                        MAX_PARTITIONS, argument);
                                return 2;
                        }
                        topic_count++;
                } else if (!strcmp(option, "--state-file")) {
                        state_file = argument;
                } else if (!strcmp(option, "--control-port")) {
                        if (parse_int(argument, 0, 65535, &control_port_wanted)) {
                                fprintf(stderr, "--control-port must be an integer 0..65535\n");
                                return 2;
                        }
                } else {
                        fprintf(stderr, "unknown option %s\n", option);
                        usage(argv[0]);
                        return 2;
                }
        }

        if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
                perror("pipe2");
                return 1;
        }
        memset(&action, 0, sizeof(action));
        action.sa_handler = on_signal;
        sigemptyset(&action.sa_mask);
        sigaction(SIGTERM, &action, NULL);
        sigaction(SIGINT, &action, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* The handle is only the mock cluster's owner: it has no bootstrap servers of its own. */
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "client.id", "pitboss-mock-broker", errstr, sizeof(errstr));
        /* Warnings and errors only: the notice that this handle has no bootstrap.servers is
         * expected and would only confuse readers of broker.log. */
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
        handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!handle) {
                fprintf(stderr, "rd_kafka_new failed: %s\n", errstr);
                return 1;
        }
        cluster = rd_kafka_mock_cluster_new(handle, broker_count);
        if (!cluster) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(handle);
                return 1;
        }
        bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
        if (!bootstrap_is_loopback(bootstrap)) {
                fprintf(stderr, "mock brokers are not on 127.0.0.1 (%s); refusing to run\n",
                        bootstrap);
                exit_code = 1;
                goto destroy;
        }

        for (int index = 0; index < topic_count; index++) {
                rd_kafka_resp_err_t error =
                    create_topic(topics[index].name, topics[index].partitions);
                if (error && error != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                        fprintf(stderr, "creating topic %s failed: %s\n", topics[index].name,
                                rd_kafka_err2str(error));
                        exit_code = 1;
                        goto destroy;
                }
        }

        control_fd = open_control_socket((int)control_port_wanted, &control_port);
        if (control_fd < 0) {
                fprintf(stderr, "cannot listen on 127.0.0.1:%ld for control: %s\n",
                        control_port_wanted, strerror(errno));
                exit_code = 1;
                goto destroy;
        }
        if (state_file && write_state_file(state_file, bootstrap, control_port) != 0) {
                fprintf(stderr, "cannot write state file %s: %s\n", state_file, strerror(errno));
                close(control_fd);
                exit_code = 1;
                goto destroy;
        }
        printf("ready bootstrap=%s controlPort=%d pid=%ld brokers=%d topics=%d\n", bootstrap,
               control_port, (long)getpid(), broker_count, topic_count);
        fflush(stdout);

        for (int index = 0; index < MAX_CLIENTS; index++)
                clients[index].fd = -1;

        for (;;) {
                struct pollfd fds[MAX_CLIENTS + 2];
                int slot_of[MAX_CLIENTS + 2];
                nfds_t count = 0;
                fds[count++] = (struct pollfd){.fd = signal_pipe[0], .events = POLLIN};
                fds[count++] = (struct pollfd){.fd = control_fd, .events = POLLIN};
                for (int index = 0; index < MAX_CLIENTS; index++) {
                        if (clients[index].fd < 0)
                                continue;
                        slot_of[count] = index;
                        fds[count++]   = (struct pollfd){.fd = clients[index].fd, .events = POLLIN};
                }
                if (poll(fds, count, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("poll");
                        exit_code = 1;
                        break;
                }
                if (fds[0].revents)
                        break; /* SIGTERM or SIGINT */
                if (fds[1].revents & POLLIN) {
                        int fd = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC);
                        if (fd >= 0) {
                                int slot = -1;
                                for (int index = 0; index < MAX_CLIENTS && slot < 0; index++)
                                        if (clients[index].fd < 0)
                                                slot = index;
                                if (slot < 0) {
                                        static const char busy[] = "error too many connections\n";
                                        send_all(fd, busy, sizeof(busy) - 1);
                                        close(fd);
                                } else {
                                        clients[slot].fd   = fd;
                                        clients[slot].used = 0;
                                }
                        }
                }
                for (nfds_t index = 2; index < count; index++)
                        if (fds[index].revents)
                                serve_client(&clients[slot_of[index]]);
        }

        for (int index = 0; index < MAX_CLIENTS; index++)
                if (clients[index].fd >= 0)
                        close_client(&clients[index]);
        close(control_fd);
        if (state_file)
                unlink(state_file);
        printf("stopping\n");
        fflush(stdout);

destroy:
        /* Takes up to ~1 s in 2.0.2 (it joins an internal broker thread that polls once a
         * second); the state file is already gone, so waiters see the stop at once. */
        wait_for_mock_thread();
        rd_kafka_mock_cluster_destroy(cluster);
        rd_kafka_destroy(handle);
        free(topics);
        return exit_code;
}
