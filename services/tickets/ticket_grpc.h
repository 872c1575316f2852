// gRPC adapter: TicketService (with the StreamTickets stream) over
// Tickets.
#ifndef STEWARD_SERVICES_TICKETS_TICKET_GRPC_H_
#define STEWARD_SERVICES_TICKETS_TICKET_GRPC_H_

#include <memory>

#include "services/transport/auth.h"
#include "services/tickets/tickets.h"

namespace grpc {
class Service;
}

namespace steward {

std::unique_ptr<grpc::Service> MakeTicketService(const Authenticator* auth, Tickets* desk);

}  // namespace steward

#endif  // STEWARD_SERVICES_TICKETS_TICKET_GRPC_H_
