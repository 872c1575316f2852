#include "services/incidents/incidents_grpc.h"

#include <grpcpp/grpcpp.h>

#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/incidents.grpc.pb.h"

namespace steward {
namespace {

class IncidentServiceImpl final : public v1::IncidentService::CallbackService {
 public:
  IncidentServiceImpl(const Authenticator* auth, Incidents* d) : auth_(*auth), d_(*d) {}
  grpc::ServerUnaryReactor* OpenIncident(grpc::CallbackServerContext* ctx, const v1::OpenIncidentRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Incidents::Open, d_);
  }
  grpc::ServerUnaryReactor* ConfirmIncident(grpc::CallbackServerContext* ctx, const v1::ConfirmIncidentRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Incidents::Confirm, d_);
  }
  grpc::ServerUnaryReactor* DismissIncident(grpc::CallbackServerContext* ctx, const v1::DismissIncidentRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Incidents::Dismiss, d_);
  }
  grpc::ServerUnaryReactor* LinkTickets(grpc::CallbackServerContext* ctx, const v1::LinkTicketsRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Incidents::Link, d_);
  }
  grpc::ServerUnaryReactor* ReplyToIncident(grpc::CallbackServerContext* ctx, const v1::ReplyToIncidentRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Incidents::Reply, d_);
  }
  grpc::ServerUnaryReactor* ResolveIncident(grpc::CallbackServerContext* ctx, const v1::ResolveIncidentRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Incidents::Resolve, d_);
  }
  grpc::ServerUnaryReactor* GetIncident(grpc::CallbackServerContext* ctx, const v1::GetIncidentRequest* req,
                                   v1::IncidentResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Incidents::Get, d_);
  }
  grpc::ServerUnaryReactor* ListIncidents(grpc::CallbackServerContext* ctx, const v1::ListIncidentsRequest* req,
                                   v1::ListIncidentsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Incidents::List, d_);
  }
  grpc::ServerUnaryReactor* ListIncidentTickets(grpc::CallbackServerContext* ctx, const v1::ListIncidentTicketsRequest* req,
                                   v1::ListIncidentTicketsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Incidents::ListTickets, d_);
  }

 private:
  const Authenticator& auth_;
  Incidents& d_;
};

class CompensationServiceImpl final : public v1::CompensationService::CallbackService {
 public:
  CompensationServiceImpl(const Authenticator* auth, Compensation* d) : auth_(*auth), d_(*d) {}
  grpc::ServerUnaryReactor* ProposeGrant(grpc::CallbackServerContext* ctx, const v1::ProposeGrantRequest* req,
                                   v1::GrantResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Compensation::Propose, d_);
  }
  grpc::ServerUnaryReactor* DecideGrant(grpc::CallbackServerContext* ctx, const v1::DecideGrantRequest* req,
                                   v1::GrantResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Compensation::Decide, d_);
  }
  grpc::ServerUnaryReactor* GetGrant(grpc::CallbackServerContext* ctx, const v1::GetGrantRequest* req,
                                   v1::GrantResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Compensation::Get, d_);
  }
  grpc::ServerUnaryReactor* ListGrants(grpc::CallbackServerContext* ctx, const v1::ListGrantsRequest* req,
                                   v1::ListGrantsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Compensation::List, d_);
  }
  grpc::ServerUnaryReactor* ListGrantRecipients(grpc::CallbackServerContext* ctx, const v1::ListGrantRecipientsRequest* req,
                                   v1::ListGrantRecipientsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Compensation::Recipients, d_);
  }
  grpc::ServerUnaryReactor* GrantReport(grpc::CallbackServerContext* ctx, const v1::GrantReportRequest* req,
                                   v1::GrantReportResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Compensation::Report, d_);
  }
  grpc::ServerUnaryReactor* AckGrants(grpc::CallbackServerContext* ctx, const v1::AckGrantsRequest* req,
                                   v1::AckGrantsResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Compensation::Ack, d_);
  }

 private:
  const Authenticator& auth_;
  Compensation& d_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeIncidentService(const Authenticator* auth, Incidents* incidents) {
  return std::make_unique<IncidentServiceImpl>(auth, incidents);
}

std::unique_ptr<grpc::Service> MakeCompensationService(const Authenticator* auth, Compensation* compensation) {
  return std::make_unique<CompensationServiceImpl>(auth, compensation);
}

}  // namespace steward
